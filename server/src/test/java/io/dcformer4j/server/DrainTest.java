package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Shutdown drains: running requests finish (or are cut at the timeout), new ones get 503; SIGTERM does the same. */
class DrainTest {

    /**
     * A streamed request that runs exactly {@code maxTokens} steps (end of sequence ignored). The running requests
     * below are long on purpose: the demo model makes a few thousand tokens a second once compiled, so a short one
     * could end before the shutdown starts, and the test would no longer test draining.
     */
    private static String streamBody(String model, int maxTokens) {
        return "{\"model\": \"" + model + "\", \"prompt\": \"" + ServerFixture.DEMO_PROMPT + "\", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0.8, \"seed\": 1, \"ignore_eos\": true, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
    }

    /** Opens a stream and returns its line iterator once the first event has arrived. */
    private static Iterator<String> openStream(HttpClient http, String base, String body) throws Exception {
        return Bounded.within(Duration.ofMinutes(2), "opening a stream", () -> firstEvent(http, base, body));
    }

    private static Iterator<String> firstEvent(HttpClient http, String base, String body) throws Exception {
        HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
        assertThat(r.statusCode()).isEqualTo(200);
        Iterator<String> it = r.body().iterator();
        while (it.hasNext()) {
            if (it.next().startsWith("data: ")) {
                return it;
            }
        }
        throw new AssertionError("the stream ended before its first event");
    }

    /** The rest of a stream, which must end within two minutes. */
    private static String rest(Iterator<String> it) throws Exception {
        return Bounded.within(Duration.ofMinutes(2), "reading the rest of a stream", () -> {
            StringBuilder sb = new StringBuilder();
            it.forEachRemaining(l -> sb.append(l).append('\n'));
            return sb.toString();
        });
    }

    @Test
    void runningRequestsFinishAndNewOnesGet503() throws Exception {
        try (ServerFixture fx = new ServerFixture(b -> b.drainTimeout(Duration.ofMinutes(5)))) {
            Iterator<String> running = openStream(fx.http, fx.base(), streamBody(fx.modelId(), 900));
            CompletableFuture<Void> shutdown = CompletableFuture.runAsync(() -> fx.server.shutdown(Duration.ofMinutes(5)));
            // Until the running request ends, the server answers, but only with 503.
            HttpResponse<String> refused;
            do {
                refused = fx.post("/v1/completions", streamBody(fx.modelId(), 2));
            } while (refused.statusCode() == 200 && !shutdown.isDone());
            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(fx.get("/health").statusCode()).isEqualTo(503);
            String tail = rest(running);
            assertThat(tail).contains("\"completion_tokens\":900").endsWith("data: [DONE]\n\n");
            shutdown.get(5, TimeUnit.MINUTES);
            assertThat(fx.server.cancelledGenerations()).isZero();
        }
    }

    @Test
    void whatOutlivesTheDrainTimeoutIsCancelled() throws Exception {
        try (ServerFixture fx = new ServerFixture()) {
            Iterator<String> running = openStream(fx.http, fx.base(), streamBody(fx.modelId(), 900));
            // A zero drain timeout: the running generation (900 steps) cannot end before it is cancelled.
            fx.server.shutdown(Duration.ZERO);
            assertThat(fx.server.cancelledGenerations()).isEqualTo(1);
            assertThat(rest(running)).contains("\"finish_reason\":\"length\"").endsWith("data: [DONE]\n\n");
        }
    }

    @Test
    void sigtermDrainsTheServerProcess() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                ServerMain.class.getName(), "--port", "0", "--backend", "cpu", "--threads", "1", "--drain-seconds", "300")
                .redirectErrorStream(true).start();
        HttpClient http = HttpClient.newHttpClient();
        try {
            BufferedReader log = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Pattern ready = Pattern.compile("model '(.+)' ready at (http://\\S+)/v1");
            Matcher announced = Bounded.within(Duration.ofMinutes(2), "the server's start", () -> {
                for (String line = log.readLine(); line != null; line = log.readLine()) {
                    Matcher m = ready.matcher(line);
                    if (m.find()) {
                        return m;
                    }
                }
                return null;
            });
            assertThat(announced).as("the server announced itself").isNotNull();
            String model = announced.group(1);
            String base = announced.group(2);
            StringBuffer output = new StringBuffer();
            Thread.ofVirtual().start(() -> { // keep the pipe drained
                try {
                    log.lines().forEach(l -> output.append(l).append('\n'));
                } catch (java.io.UncheckedIOException e) {
                    // the process ended
                }
            });
            Iterator<String> running = openStream(http, base, streamBody(model, 600));
            p.destroy(); // SIGTERM
            String tail;
            try {
                tail = rest(running);
            } catch (RuntimeException e) {
                p.waitFor(1, TimeUnit.MINUTES);
                throw new AssertionError("the stream broke; server output:\n" + output, e);
            }
            assertThat(tail).contains("\"completion_tokens\":600").endsWith("data: [DONE]\n\n");
            assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).isEqualTo(143); // 128 + SIGTERM, after the shutdown hook drained
        } finally {
            p.destroyForcibly();
            Bounded.closeNow(http);
        }
    }
}
