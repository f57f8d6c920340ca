package io.dcformer4j.server;

import io.dcformer4j.model.Quantization;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a {@link DCFormerServer} runs. Build with {@link #builder()}; the defaults bind the loopback address
 * on port 8080 and serve the shipped demo model.
 *
 * @param host          address to bind; a non-loopback address needs an API key
 * @param port          TCP port (0: any free port, see {@link DCFormerServer#port()})
 * @param model         model directory, or null for the shipped demo DCFormer
 * @param modelName     the model id clients name in requests, or null for the directory's name
 *                      ({@code dcformer4j-demo} for the demo)
 * @param backend       backend name ({@code cpu}, {@code cuda}), or null for the selection rules
 * @param threads       backend worker threads, 0 for all processors
 * @param maxBatch      generations running at once (each holds one session's caches)
 * @param queueLimit    requests that may wait for a slot; more are refused with 429
 * @param contextSize   most tokens (prompt and completion) per request, or 0 for the model's block size
 * @param apiKey        the bearer key every {@code /v1} and {@code /metrics} request must carry, or null for none
 * @param maxBodyBytes  largest request body accepted (413 beyond)
 * @param idleTimeout   how long a connection may see no traffic (queueing and generating included) before it is closed
 * @param drainTimeout  how long {@link DCFormerServer#close()} lets running requests finish before cancelling them
 * @param quantization  how the model's projection weights are stored once loaded ({@link Quantization#NONE}: as
 *                      the checkpoint has them; {@link Quantization#Q8_0}: 8-bit blocks quantized at load)
 */
public record ServerConfig(String host, int port, Path model, String modelName, String backend, int threads, int maxBatch,
                           int queueLimit, int contextSize, String apiKey, long maxBodyBytes, Duration idleTimeout, Duration drainTimeout,
                           Quantization quantization) {

    /** The model id of the shipped demo model. */
    public static final String DEMO_MODEL_NAME = "dcformer4j-demo";

    /** Checks the values. */
    public ServerConfig {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("host must be an address or name, got '" + host + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (all processors) or positive, got " + threads);
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max-batch must be at least 1, got " + maxBatch);
        }
        if (queueLimit < 0) {
            throw new IllegalArgumentException("the queue limit must be 0 or more, got " + queueLimit);
        }
        if (contextSize < 0) {
            throw new IllegalArgumentException("ctx-size must be 0 (the model's block size) or positive, got " + contextSize);
        }
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
        if (maxBodyBytes < 1024) {
            throw new IllegalArgumentException("the body limit must be at least 1024 bytes, got " + maxBodyBytes);
        }
        if (idleTimeout == null || idleTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("the idle timeout must be positive");
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new IllegalArgumentException("the drain timeout must be zero or positive");
        }
        if (quantization == null) {
            quantization = Quantization.NONE;
        }
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServerConfig}. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private Path model;
        private String modelName;
        private String backend;
        private int threads;
        private Quantization quantization = Quantization.NONE;
        private int maxBatch = 8;
        private int queueLimit = 64;
        private int contextSize;
        private String apiKey;
        private long maxBodyBytes = 1 << 20;
        private Duration idleTimeout = Duration.ofMinutes(10);
        private Duration drainTimeout = Duration.ofSeconds(30);

        private Builder() {
        }

        /** Address to bind (default 127.0.0.1). */
        public Builder host(String v) {
            host = v;
            return this;
        }

        /** Port (default 8080; 0 picks a free one). */
        public Builder port(int v) {
            port = v;
            return this;
        }

        /** Model directory (default: the demo model). */
        public Builder model(Path v) {
            model = v;
            return this;
        }

        /** Model id clients use (default: the directory's name, or dcformer4j-demo). */
        public Builder modelName(String v) {
            modelName = v;
            return this;
        }

        /** Backend name (default: the selection rules). */
        public Builder backend(String v) {
            backend = v;
            return this;
        }

        /** Backend worker threads (default 0: all processors). */
        public Builder threads(int v) {
            threads = v;
            return this;
        }

        /** Concurrent generations (default 8). */
        public Builder maxBatch(int v) {
            maxBatch = v;
            return this;
        }

        /** Waiting requests before 429 (default 64). */
        public Builder queueLimit(int v) {
            queueLimit = v;
            return this;
        }

        /** Tokens per request (default 0: the model's block size). */
        public Builder contextSize(int v) {
            contextSize = v;
            return this;
        }

        /** Required bearer key (default none; needed to bind a non-loopback address). */
        public Builder apiKey(String v) {
            apiKey = v;
            return this;
        }

        /** Largest body (default 1 MiB). */
        public Builder maxBodyBytes(long v) {
            maxBodyBytes = v;
            return this;
        }

        /** Connection idle timeout (default 10 minutes: it must cover queueing plus a whole non-streamed generation). */
        public Builder idleTimeout(Duration v) {
            idleTimeout = v;
            return this;
        }

        /** How the projection weights are stored once loaded (default {@link Quantization#NONE}). */
        public Builder quantization(Quantization v) {
            quantization = v;
            return this;
        }

        /** Drain time on shutdown (default 30 s). */
        public Builder drainTimeout(Duration v) {
            drainTimeout = v;
            return this;
        }

        /** The checked configuration. */
        public ServerConfig build() {
            return new ServerConfig(host, port, model, modelName, backend, threads, maxBatch, queueLimit, contextSize, apiKey,
                    maxBodyBytes, idleTimeout, drainTimeout, quantization);
        }
    }
}
