package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Chat templates in the shapes of well-known ones (ChatML, Llama 2 and Llama 3, named templates, and one that
 * uses namespace, Python string methods, a filtered loop and {@code tojson}), rendered exactly as Hugging Face
 * renders them: the expected texts were written by {@code tools/chat-templates/render_expected.py} with Jinja2,
 * the way transformers' {@code apply_chat_template} calls it. Then where a template is found, how its failures
 * are reported, and the sandbox.
 */
class JinjaChatFormatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Path fixture(String name) {
        try {
            return Path.of(JinjaChatFormatTest.class.getResource("templates/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<ChatFormat.Message> conversation(String name) throws IOException {
        JsonNode all = JSON.readTree(Files.readString(fixture("conversations.json")));
        List<ChatFormat.Message> out = new ArrayList<>();
        for (JsonNode m : all.get(name)) {
            out.add(new ChatFormat.Message(m.get("role").asText(), m.get("content").asText()));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({
        "chatml, system-chat", "chatml, user-only",
        "llama2, system-chat", "llama2, user-only",
        "llama3, system-chat", "llama3, user-only",
        "features, system-chat", "features, user-only",
        "named, system-chat", "named, user-only",
    })
    void rendersAsHuggingFaceDoes(String template, String conversation) throws IOException {
        ChatFormat format = ChatFormat.forModel(fixture(template));
        assertThat(format).isInstanceOf(JinjaChatFormat.class);
        String expected = Files.readString(fixture(template).resolve("expected-" + conversation + ".txt"), StandardCharsets.UTF_8);
        assertThat(format.render(conversation(conversation))).isEqualTo(expected);
    }

    @Test
    void theTemplateFileIsFoundWhereHuggingFaceLooks() {
        assertThat(ChatFormat.forModel(fixture("llama3")).name()).endsWith("chat_template.jinja)");
        assertThat(ChatFormat.forModel(fixture("features")).name()).endsWith("chat_template.json)");
        assertThat(ChatFormat.forModel(fixture("chatml")).name()).endsWith("tokenizer_config.json)");
        assertThat(ChatFormat.forModel(fixture("chatml")).stopStrings()).containsExactly("<|im_end|>");
        assertThat(ChatFormat.forModel(fixture("llama2")).stopStrings()).containsExactly("</s>");
    }

    @Test
    void aModelWithoutATemplateUsesTheTranscript(@TempDir Path dir) throws IOException {
        assertThat(ChatFormat.forModel(dir)).isInstanceOf(TranscriptChatFormat.class);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\"}");
        assertThat(ChatFormat.forModel(dir)).isInstanceOf(TranscriptChatFormat.class);
    }

    @Test
    void raiseExceptionIsA400NamingTheTemplatesMessage() throws IOException {
        ChatFormat llama2 = ChatFormat.forModel(fixture("llama2"));
        List<ChatFormat.Message> twoUsers = List.of(new ChatFormat.Message("user", "a"), new ChatFormat.Message("user", "b"));
        assertThatThrownBy(() -> llama2.render(twoUsers))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.param()).isEqualTo("messages");
                    assertThat(e.getMessage()).isEqualTo("The model's chat template refused these messages:"
                            + " Conversation roles must alternate user/assistant/user/assistant/...");
                });
    }

    @Test
    void unreadableTemplateFilesAreNamed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": ");
        assertThatThrownBy(() -> ChatFormat.forModel(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenizer_config.json is not valid JSON");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": 3}");
        assertThatThrownBy(() -> ChatFormat.forModel(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'chat_template' must be a string");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}");
        assertThatThrownBy(() -> ChatFormat.forModel(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without one named 'default'");
    }

    private static JinjaChatFormat template(String source) {
        return new JinjaChatFormat(new ChatTemplateSource(source, "test template", Map.of("eos_token", "</s>")));
    }

    private static final List<ChatFormat.Message> HI = List.of(new ChatFormat.Message("user", "hi"));

    @Test
    void aTemplateThatDoesNotParseIsReportedAtLoadAndAs500() {
        JinjaChatFormat broken = template("{% for m in messages %}{{ m.content }}");
        assertThat(broken.problem()).contains("endfor");
        assertThatThrownBy(() -> broken.render(HI)).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.status()).isEqualTo(500);
            assertThat(e.getMessage()).contains("test template").contains("cannot be used");
        });
        assertThat(template("{{ messages[0].content }}").problem()).isNull();
    }

    @Test
    void loopFiltersWhichJinjavaWouldIgnoreAreRefused() {
        assertThat(template("{% for m in messages if m.role != 'system' %}{{ m.content }}{% endfor %}").problem())
                .contains("filters a loop");
        assertThat(template("{%- for m in messages %}{% if m.role != 'system' %}{{ m.content }}{% endif %}{% endfor %}")
                .problem()).isNull();
    }

    @Test
    void otherTemplateErrorsAre500NamingThem() {
        assertThatThrownBy(() -> template("{{ messages[0].content.no_such_method() }}").render(HI))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(500);
                    assertThat(e.getMessage()).contains("test template").contains("no_such_method");
                });
    }

    @Test
    void developerMessagesReachTemplatesAsSystemMessages() {
        assertThat(template("{% for m in messages %}{{ m.role }};{% endfor %}")
                .render(List.of(new ChatFormat.Message("developer", "d"), new ChatFormat.Message("user", "u"))))
                .isEqualTo("system;user;");
    }

    @Test
    void templatesCannotReadFiles(@TempDir Path dir) throws IOException {
        Path secret = dir.resolve("secret.txt");
        Files.writeString(secret, "SECRET");
        for (String tag : List.of("{% include '" + secret + "' %}", "{% import '" + secret + "' as s %}",
                "{% from '" + secret + "' import x %}", "{% extends '" + secret + "' %}",
                "{% include 'io/dcformer4j/server/templates/conversations.json' %}")) {
            String out;
            try {
                out = template("[" + tag + "]").render(HI);
            } catch (ApiException e) {
                out = e.getMessage();
            }
            assertThat(out).as(tag).doesNotContain("SECRET").doesNotContain("system-chat");
        }
    }

    @Test
    void messageTextIsNeverInterpreted() {
        assertThat(template("{{ messages[0].content }}").render(List.of(new ChatFormat.Message("user",
                "{{ raise_exception('no') }}{% for i in range(3) %}x{% endfor %}"))))
                .isEqualTo("{{ raise_exception('no') }}{% for i in range(3) %}x{% endfor %}");
    }

    @Test
    void renderingIsBoundedInOutputAndTime() {
        assertThatThrownBy(() -> template("{% for i in range(10000) %}{% for m in messages %}"
                + "{{ m.content }}{% endfor %}{% endfor %}").render(List.of(new ChatFormat.Message("user", "x".repeat(100_000)))))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("too large a prompt");
                });
        // 10^16 iterations that write nothing: only the deadline stops it.
        assertThatThrownBy(() -> new JinjaChatFormat(new ChatTemplateSource("{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}"
                + "{% for d in range(10000) %}{% set x = 1 %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}", "t", Map.of()),
                Duration.ofSeconds(1)).render(HI))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("took longer than");
                });
    }

    @Test
    void pythonStringMethodsBehaveAsInPython() {
        String t = "{% set s = messages[0].content %}{{ s.split() }}|{{ s.split(',', 1) }}|{{ s.strip(' xa') }}|"
                + "{{ s.lstrip() }}|{{ s.rstrip() }}|{{ s.startswith(('q', ' x')) }}|{{ s.endswith('a ') }}|"
                + "{{ s.title() }}|{{ s.capitalize() }}|{{ s.replace('a', 'b') }}|{{ s.find('y') }}|{{ s.count('a') }}|"
                + "{{ '-'.join(['p', '', 'q']) }}|{{ messages[0].get('name', 'anonymous') }}|{{ messages[0].get('role') }}";
        assertThat(template(t).render(List.of(new ChatFormat.Message("user", " xa,yA za "))))
                .isEqualTo("['xa,yA', 'za']|[' xa', 'yA za ']|,yA z|xa,yA za | xa,yA za|true|true| Xa,Ya Za | xa,ya za | xb,yA zb |4|2|p--q|anonymous|user");
    }
}
