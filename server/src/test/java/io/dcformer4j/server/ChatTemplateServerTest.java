package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.DCFormer;
import io.dcformer4j.generate.GenerationConfig;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chat request end to end through the server for a model whose {@code tokenizer_config.json} has a chat
 * template (the demo model, copied with a ChatML-style template added): the prompt is the rendered template,
 * the answer is what the engine makes of that prompt, {@code /v1/models} names the template, and a
 * conversation the template refuses with {@code raise_exception} is a 400 naming the template's reason.
 */
class ChatTemplateServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEMPLATE = "{%- if messages[-1]['role'] != 'user' %}"
            + "{{- raise_exception('The last message must come from the user') }}{%- endif %}"
            + "{%- for message in messages %}"
            + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + eos_token + '\\n' }}"
            + "{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    @TempDir
    static Path dir;
    private static ServerFixture fx;

    @BeforeAll
    static void start() throws Exception {
        Path demo = DCFormer.demoDirectory("dcformer");
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            Files.copy(demo.resolve(f), dir.resolve(f));
        }
        ObjectNode config = JSON.createObjectNode();
        config.put("eos_token", "<|endoftext|>");
        config.put("chat_template", TEMPLATE);
        Files.writeString(dir.resolve("tokenizer_config.json"), JSON.writeValueAsString(config));
        fx = new ServerFixture(dir, b -> b);
    }

    @AfterAll
    static void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return fx.http.send(HttpRequest.newBuilder(URI.create(fx.base() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").timeout(Duration.ofMinutes(2))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theModelsTemplateMakesThePrompt() throws Exception {
        String system = "Mary has a pen. Tom has a fox. Ruth has a cat.";
        String user = "  Tom has a kind of  ";
        HttpResponse<String> r = post("{\"model\": \"" + fx.modelId() + "\", \"messages\": ["
                + "{\"role\": \"system\", \"content\": \"" + system + "\"}, {\"role\": \"user\", \"content\": \"" + user + "\"}],"
                + " \"max_tokens\": 8, \"temperature\": 0}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(r.body());

        String prompt = "<|im_start|>system\n" + system + "<|endoftext|>\n<|im_start|>user\n" + user.strip()
                + "<|endoftext|>\n<|im_start|>assistant\n";
        String expected = fx.engineText(prompt, GenerationConfig.builder().maxNewTokens(8).temperature(0)
                .stopStrings(List.of("<|endoftext|>")).build());
        assertThat(body.at("/choices/0/message/content").asText()).isEqualTo(expected);
        assertThat(body.at("/usage/prompt_tokens").asInt()).isEqualTo(fx.model.tokenizer().encode(prompt).length);
        // The special token the template writes is one token, not its characters.
        assertThat(fx.model.tokenizer().encode(prompt)).contains(fx.model.tokenizer().tokenId("<|endoftext|>").orElseThrow());
    }

    @Test
    void modelsSaysWhichFormatChatUses() throws Exception {
        HttpResponse<String> r = fx.get("/v1/models");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).at("/data/0/chat_format").asText())
                .startsWith("chat template (").endsWith("tokenizer_config.json)");
    }

    @Test
    void aConversationTheTemplateRefusesIsA400NamingWhy() throws Exception {
        HttpResponse<String> r = post("{\"model\": \"" + fx.modelId() + "\", \"messages\": ["
                + "{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e.get("param").asText()).isEqualTo("messages");
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).isEqualTo("The model's chat template refused these messages:"
                + " The last message must come from the user");
    }
}
