package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** OpenAI error bodies with the right status for each kind of bad request, and the bind rule. */
class ErrorsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = new ServerFixture(b -> b.contextSize(64).maxBodyBytes(4096));
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        JsonNode e = JSON.readTree(r.body()).get("error");
        assertThat(e).as(r.body()).isNotNull();
        assertThat(e.get("message").asText()).isNotBlank();
        assertThat(e.has("type") && e.has("param") && e.has("code")).isTrue();
        return e;
    }

    private String completion(String fields) {
        return "{\"model\": \"" + fx.modelId() + "\", " + fields + "}";
    }

    @Test
    void badFieldsAre400NamingTheField() throws Exception {
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": \"x\", \"temperature\": \"hot\"")), 400)
                .get("param").asText()).isEqualTo("temperature");
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": \"x\", \"max_tokens\": 0")), 400)
                .get("param").asText()).isEqualTo("max_tokens");
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": \"x\", \"n\": 2")), 400)
                .get("param").asText()).isEqualTo("n");
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": \"x\", \"top_p\": 0")), 400)
                .get("param").asText()).isEqualTo("top_p");
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": \"x\", \"stop\": [\"a\", 3]")), 400)
                .get("param").asText()).isEqualTo("stop");
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": [1, 100000]")), 400)
                .get("param").asText()).isEqualTo("prompt");
        assertThat(error(fx.post("/v1/completions", completion("\"max_tokens\": 3")), 400)
                .get("param").asText()).isEqualTo("prompt");
        assertThat(error(fx.post("/v1/chat/completions", "{\"model\": \"" + fx.modelId()
                + "\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"), 400)
                .get("param").asText()).isEqualTo("messages[0].role");
        assertThat(error(fx.post("/v1/completions", "{\"prompt\": \"x\"}"), 400).get("param").asText()).isEqualTo("model");
        error(fx.post("/v1/completions", "not json"), 400);
        error(fx.post("/v1/completions", "[1, 2]"), 400);
    }

    @Test
    void jsonNestingAndBodySizeAreBounded() throws Exception {
        String deep = "[".repeat(40) + "]".repeat(40);
        assertThat(error(fx.post("/v1/completions", completion("\"prompt\": " + deep)), 400).get("message").asText())
                .contains("JSON limit");
        String big = completion("\"prompt\": \"" + "a".repeat(10_000) + "\"");
        error(fx.post("/v1/completions", big), 413);
    }

    @Test
    void unknownModelAndPathAre404() throws Exception {
        JsonNode e = error(fx.post("/v1/completions", "{\"model\": \"gpt-9\", \"prompt\": \"x\"}"), 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(error(fx.get("/v1/nothing-here"), 404).get("code").asText()).isEqualTo("unknown_url");
        assertThat(error(fx.get("/v1/models/gpt-9"), 404).get("param").asText()).isEqualTo("model");
        assertThat(fx.get("/v1/models/" + fx.modelId()).statusCode()).isEqualTo(200);
    }

    @Test
    void promptsBeyondTheContextAre400ContextLengthExceeded() throws Exception {
        String longPrompt = "Tom has a fox. ".repeat(40); // far beyond the 64-token context of this server
        JsonNode e = error(fx.post("/v1/completions", completion("\"prompt\": \"" + longPrompt + "\"")), 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("param").asText()).isEqualTo("prompt");
        JsonNode m = error(fx.post("/v1/completions", completion("\"prompt\": \"Tom has\", \"max_tokens\": 64")), 400);
        assertThat(m.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(m.get("param").asText()).isEqualTo("max_tokens");
        // Within the budget, max_tokens is honoured exactly: the completion fills the rest of the context.
        int promptTokens = fx.model.tokenizer().encode("Tom has").length;
        HttpResponse<String> ok = fx.post("/v1/completions", completion("\"prompt\": \"Tom has\", \"temperature\": 0, \"max_tokens\": "
                + (64 - promptTokens)));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void healthAndMetrics() throws Exception {
        HttpResponse<String> h = fx.get("/health");
        assertThat(h.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(h.body()).get("status").asText()).isEqualTo("ok");
        fx.post("/v1/completions", completion("\"prompt\": \"Tom has\", \"max_tokens\": 2"));
        String metrics = fx.get("/metrics").body();
        assertThat(metrics).contains("dcformer4j_requests_total{", "dcformer4j_request_errors_total{",
                "dcformer4j_queue_length", "dcformer4j_batch_size", "dcformer4j_time_to_first_token_seconds_bucket",
                "dcformer4j_inter_token_latency_seconds_bucket", "dcformer4j_tokens_per_second",
                "dcformer4j_generated_tokens_total");
        // max_tokens 2: the second token took one decode step through the engine's batch scheduler
        double steps = counter(metrics, "dcformer4j_decode_steps_total");
        double rows = counter(metrics, "dcformer4j_decode_rows_total");
        assertThat(steps).as("decode steps").isGreaterThanOrEqualTo(1);
        assertThat(rows).as("decode rows").isGreaterThanOrEqualTo(steps);
    }

    /** The value of an unlabelled counter in Prometheus text. */
    private static double counter(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " missing from /metrics:\n" + metrics));
    }

    @Test
    void logprobsAndEcho() throws Exception {
        HttpResponse<String> r = fx.post("/v1/completions", completion(
                "\"prompt\": \"Tom has a\", \"max_tokens\": 3, \"temperature\": 0, \"logprobs\": 3, \"echo\": true"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode choice = JSON.readTree(r.body()).get("choices").get(0);
        assertThat(choice.get("text").asText()).startsWith("Tom has a");
        JsonNode lp = choice.get("logprobs");
        int prompt = fx.model.tokenizer().encode("Tom has a").length;
        int completion = JSON.readTree(r.body()).get("usage").get("completion_tokens").asInt();
        assertThat(lp.get("tokens").size()).isEqualTo(lp.get("token_logprobs").size()).isEqualTo(prompt + completion);
        assertThat(lp.get("token_logprobs").get(0).isNull()).isTrue();
        for (int i = prompt; i < prompt + completion; i++) {
            // Greedy: the chosen token is the most likely one, so it heads its top-3 with the same value.
            JsonNode top = lp.get("top_logprobs").get(i);
            assertThat(top.size()).isBetween(1, 3);
            double best = top.properties().stream().mapToDouble(en -> en.getValue().asDouble()).max().orElseThrow();
            assertThat(lp.get("token_logprobs").get(i).asDouble()).isEqualTo(best).isLessThanOrEqualTo(0);
        }
        HttpResponse<String> chat = fx.post("/v1/chat/completions", "{\"model\": \"" + fx.modelId()
                + "\", \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}],"
                + " \"max_tokens\": 2, \"logprobs\": true, \"top_logprobs\": 2}");
        assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
        JsonNode content = JSON.readTree(chat.body()).get("choices").get(0).get("logprobs").get("content");
        assertThat(content.size()).isGreaterThan(0);
        assertThat(content.get(0).get("top_logprobs").size()).isEqualTo(2);
        assertThat(content.get(0).get("bytes").isArray()).isTrue();
    }

    @Test
    void apiKeyIsRequiredWhenConfiguredAndForNonLoopbackBinds() throws Exception {
        assertThatCode(() -> ServerConfig.builder().host("0.0.0.0").port(0).build()).doesNotThrowAnyException();
        assertThatThrownBy(() -> DCFormerServer.start(ServerConfig.builder().host("0.0.0.0").port(0).build(), fx.model))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("API key");
        try (ServerFixture keyed = new ServerFixture(b -> b.apiKey("s3cret"))) {
            String body = "{\"model\": \"" + keyed.modelId() + "\", \"prompt\": \"Tom has\", \"max_tokens\": 1}";
            assertThat(error(keyed.post("/v1/completions", body), 401).get("code").asText()).isEqualTo("invalid_api_key");
            error(keyed.post("/v1/completions", body, "wrong"), 401);
            error(keyed.get("/metrics"), 401);
            assertThat(keyed.post("/v1/completions", body, "s3cret").statusCode()).isEqualTo(200);
            assertThat(keyed.get("/health").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aModelThatFailsToLoadAnswers503(@TempDir Path empty) throws Exception {
        try (DCFormerServer broken = DCFormerServer.start(ServerConfig.builder().port(0).model(empty).backend("cpu").build())) {
            assertThatThrownBy(() -> broken.awaitReady(Duration.ofMinutes(1))).isInstanceOf(IllegalStateException.class);
            var client = java.net.http.HttpClient.newHttpClient();
            var health = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(broken.baseUrl() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(503);
            var post = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(broken.baseUrl() + "/v1/completions"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(post.statusCode()).isEqualTo(503);
            assertThat(post.headers().firstValue("Retry-After")).isPresent();
        }
    }
}
