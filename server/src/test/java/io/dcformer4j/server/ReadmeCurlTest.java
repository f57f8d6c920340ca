package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Runs the README's {@code curl} examples exactly as printed, against a server on a port of our own. */
class ReadmeCurlTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = new ServerFixture();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    /** The {@code sh} blocks of the README's serving section, in order. */
    static List<String> shellBlocks() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int from = readme.indexOf("## Serving over HTTP");
        int to = readme.indexOf("\n## ", from + 1);
        assertThat(from).as("README has a serving section").isPositive();
        Matcher m = Pattern.compile("```sh\n(.*?)```", Pattern.DOTALL).matcher(readme.substring(from, to));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    private static String run(String script) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true);
        pb.environment().put("BASE", fx.base());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void curlExamplesRunAsPrinted() throws Exception {
        List<String> blocks = shellBlocks();
        assertThat(blocks).hasSize(4);
        String prelude = blocks.get(0);
        assertThat(prelude).startsWith("BASE=");

        JsonNode completion = JSON.readTree(run(prelude + blocks.get(1)));
        assertThat(completion.get("object").asText()).isEqualTo("text_completion");
        assertThat(completion.get("choices").get(0).get("text").asText()).isEqualTo(" animal");
        assertThat(completion.get("choices").get(0).get("finish_reason").asText()).isEqualTo("stop");

        JsonNode chat = JSON.readTree(run(prelude + blocks.get(2)));
        assertThat(chat.get("object").asText()).isEqualTo("chat.completion");
        assertThat(chat.get("choices").get(0).get("message").get("role").asText()).isEqualTo("assistant");
        assertThat(chat.get("usage").get("completion_tokens").asInt()).isBetween(1, 12);

        String stream = run(prelude + blocks.get(3));
        assertThat(stream).contains("\"delta\":{\"role\":\"assistant\",\"content\":\"\"}");
        assertThat(stream.strip()).endsWith("data: [DONE]");
    }
}
