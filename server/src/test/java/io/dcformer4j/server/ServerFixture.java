package io.dcformer4j.server;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A demo model on a CPU backend the test owns, served on a loopback port picked by the system. */
final class ServerFixture implements AutoCloseable {
    static final String DEMO_PROMPT = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";

    final Backend backend;
    final DCFormer model;
    final DCFormerServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    ServerFixture() {
        this(b -> b);
    }

    ServerFixture(UnaryOperator<ServerConfig.Builder> options) {
        this(null, options);
    }

    /** Serves the model of directory {@code dir} (null: the demo model). */
    ServerFixture(Path dir, UnaryOperator<ServerConfig.Builder> options) {
        // One worker: requests give the concurrency, and hand-offs between workers are slow on a busy machine.
        backend = Backends.open("cpu", BackendOptions.withThreads(1));
        model = dir == null ? DCFormer.demo(backend) : DCFormer.load(dir, backend);
        server = DCFormerServer.start(options.apply(ServerConfig.builder().port(0)).build(), model);
    }

    String base() {
        return server.baseUrl();
    }

    String modelId() {
        return server.modelId();
    }

    /** The engine path: the text the embedding API (and the CLI) produce for this prompt and configuration. */
    String engineText(String prompt, GenerationConfig config) {
        try (GenerationSession session = model.newSession()) {
            return session.generate(prompt, config);
        }
    }

    HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
        return post(path, json, null);
    }

    HttpResponse<String> post(String path, String json, String key) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        server.shutdown(Duration.ofSeconds(10));
        model.close();
        backend.close();
        Bounded.closeNow(http);
    }
}
