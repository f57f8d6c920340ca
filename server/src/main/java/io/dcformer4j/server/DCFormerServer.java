package io.dcformer4j.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.DCFormer;
import io.dcformer4j.DecodeStatistics;
import io.dcformer4j.EngineOptions;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An OpenAI-compatible HTTP server for one DCFormer model, embeddable: {@link #start(ServerConfig)} binds
 * the port at once and loads the model in the background ({@code /health} answers 503 until it is ready);
 * {@link #start(ServerConfig, DCFormer)} serves a model the caller loaded and keeps open.
 *
 * <pre>{@code
 * try (DCFormerServer server = DCFormerServer.start(ServerConfig.builder().port(0).build())) {
 *     server.awaitReady(Duration.ofMinutes(1));
 *     System.out.println("listening on " + server.baseUrl());   // e.g. http://127.0.0.1:41234
 * }
 * }</pre>
 *
 * Endpoints: {@code POST /v1/completions}, {@code POST /v1/chat/completions}, {@code GET /v1/models},
 * {@code GET /v1/models/{id}}, {@code GET /health}, {@code GET /metrics}. {@link #close()} drains: new
 * requests get 503, running ones may finish within the drain timeout, then the rest are cancelled.
 */
public final class DCFormerServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DCFormerServer.class.getName());
    private static final String ERROR_WRITTEN = "dcformer4j.errorWritten";

    private enum State { LOADING, READY, FAILED, DRAINING, STOPPED }

    private final ServerConfig config;
    private final Json json;
    private final Admission admission;
    private final ServerMetrics metrics;
    private final Javalin app;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final boolean ownsModel;
    private volatile State state = State.LOADING;
    private volatile String failure;
    private volatile DCFormer model;
    private volatile Backend ownedBackend;
    private volatile String modelId;
    private volatile long loadedAt;
    private volatile Engine engine;
    private volatile ChatFormat chatFormat;
    private volatile GenerationHandler generation;

    /** The loaded model's decode statistics; zeros while it loads. */
    private DecodeStatistics decodeStatistics() {
        DCFormer m = model;
        return m == null ? new DecodeStatistics(0, 0) : m.decodeStatistics();
    }

    private DCFormerServer(ServerConfig config, boolean ownsModel) {
        this.config = config;
        this.ownsModel = ownsModel;
        checkBind(config);
        this.json = new Json(config.maxBodyBytes());
        this.admission = new Admission(config.maxBatch(), config.queueLimit());
        this.metrics = new ServerMetrics(admission, this::decodeStatistics);
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            // Compression would buffer server-sent events; responses here are small JSON anyway.
            cfg.http.compressionStrategy = CompressionStrategy.NONE;
            cfg.jetty.host = config.host();
            cfg.jetty.port = config.port();
            cfg.routes.before(this::authorize);
            cfg.routes.get("/health", this::health);
            cfg.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            cfg.routes.get("/v1/models", this::models);
            cfg.routes.get("/v1/models/{id}", this::model);
            cfg.routes.post("/v1/completions", ctx -> generate(ctx, false));
            cfg.routes.post("/v1/chat/completions", ctx -> generate(ctx, true));
            cfg.routes.exception(ApiException.class, (e, ctx) -> writeError(ctx, e));
            cfg.routes.exception(Exception.class, (e, ctx) -> {
                LOG.log(Level.WARNING, "request " + ctx.method() + " " + ctx.path() + " failed", e);
                writeError(ctx, ApiException.internal("internal error: " + e));
            });
            cfg.routes.error(404, ctx -> {
                if (ctx.attribute(ERROR_WRITTEN) == null) {
                    writeError(ctx, ApiException.notFound(ctx.method().name(), ctx.path()));
                }
            });
            cfg.routes.after(ctx -> metrics.request(ctx.path(), ctx.statusCode()));
        });
    }

    /**
     * Binds the port and loads the configured model in the background.
     *
     * @throws IllegalArgumentException when a non-loopback address is to be bound without an API key
     */
    public static DCFormerServer start(ServerConfig config) {
        DCFormerServer server = new DCFormerServer(config, true);
        server.listen();
        Thread.ofPlatform().name("dcformer4j-model-loader").daemon().start(server::loadModel);
        return server;
    }

    /** Binds the port and serves {@code model}, which the caller owns (it stays open after {@link #close()}). */
    public static DCFormerServer start(ServerConfig config, DCFormer model) {
        DCFormerServer server = new DCFormerServer(config, false);
        server.ready(model, null);
        server.listen();
        return server;
    }

    private void listen() {
        app.start();
        // Jetty closes a connection that sees no traffic for its idle timeout (30 s by default), even while a
        // request on it waits for a slot or a whole completion is being generated: give it the configured time.
        for (Connector c : app.jettyServer().server().getConnectors()) {
            if (c instanceof AbstractConnector connector) {
                connector.setIdleTimeout(config.idleTimeout().toMillis());
            }
        }
    }

    /** The port bound (the actual one when the configuration asked for 0). */
    public int port() {
        return app.port();
    }

    /** {@code http://host:port}, the base URL without {@code /v1}. */
    public String baseUrl() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    /** Generations cancelled so far because their client disconnected (or the drain timed out). */
    public long cancelledGenerations() {
        return (long) metrics.cancelledCount();
    }

    /** Generations running now. */
    public int runningGenerations() {
        return admission.running();
    }

    /** The model id clients name in requests (known once the model is loaded). */
    public String modelId() {
        return modelId;
    }

    /**
     * Waits until the model is loaded.
     *
     * @return true when ready, false on timeout
     * @throws IllegalStateException when loading failed
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        boolean done = loaded.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (done && state == State.FAILED) {
            throw new IllegalStateException("the model failed to load: " + failure);
        }
        return done && state == State.READY;
    }

    private void loadModel() {
        Backend backend = null;
        try {
            Path dir = config.model() != null ? config.model() : DCFormer.demoDirectory("dcformer");
            DCFormer m;
            backend = Backends.open(config.backend(), BackendOptions.withThreads(config.threads()));
            m = DCFormer.load(dir, backend, EngineOptions.defaults().withQuantization(config.quantization()));
            synchronized (this) {
                if (state != State.LOADING) { // closed while loading
                    m.close();
                    if (backend != null) {
                        backend.close();
                    }
                    return;
                }
                try {
                    ready(m, backend);
                } catch (RuntimeException e) {
                    m.close();
                    throw e;
                }
            }
            LOG.info(() -> "model " + modelId + " ready on " + baseUrl());
        } catch (RuntimeException | Error e) {
            if (backend != null) {
                backend.close();
            }
            failure = e.getMessage();
            state = State.FAILED;
            loaded.countDown();
            LOG.log(Level.SEVERE, "loading the model failed", e);
        }
    }

    private void ready(DCFormer m, Backend backend) {
        int block = m.config().blockSize();
        int ctx = config.contextSize() == 0 ? block : config.contextSize();
        if (ctx > block) {
            throw new IllegalArgumentException("ctx-size " + ctx + " is larger than the model's block size " + block);
        }
        String id = config.modelName() != null ? config.modelName()
                : config.model() == null ? ServerConfig.DEMO_MODEL_NAME : m.directory().getFileName().toString();
        ChatFormat chat = chatFormat(m.directory());
        Engine e = new Engine(m, ctx, admission, metrics);
        RequestParser parser = new RequestParser(id, m.tokenizer(), ctx, m.config().vocabSize(), chat);
        this.model = m;
        this.ownedBackend = backend;
        this.modelId = id;
        this.chatFormat = chat;
        this.engine = e;
        this.generation = new GenerationHandler(json, e, parser, config.maxBodyBytes());
        this.loadedAt = System.currentTimeMillis() / 1000;
        this.state = State.READY;
        loaded.countDown();
    }

    /** The model's chat format, said in the log (a template that does not parse is logged as an error). */
    private static ChatFormat chatFormat(Path dir) {
        ChatFormat chat = ChatFormat.forModel(dir);
        if (chat instanceof JinjaChatFormat jinja && jinja.problem() != null) {
            LOG.severe(() -> "chat requests will fail: the " + chat.name() + " cannot be used: " + jinja.problem());
        } else {
            LOG.info(() -> "chat requests use the " + chat.name());
        }
        return chat;
    }

    private void generate(Context ctx, boolean chat) {
        enter();
        try {
            generation.handle(ctx, chat);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Counts a generation request in, or refuses it with 503 while loading or shutting down. */
    private void enter() {
        inFlight.incrementAndGet();
        State s = state;
        if (s != State.READY) {
            inFlight.decrementAndGet();
            throw switch (s) {
                case LOADING -> ApiException.unavailable("The model is still loading; retry shortly", 5);
                case FAILED -> ApiException.unavailable("The model failed to load: " + failure, 60);
                default -> ApiException.unavailable("The server is shutting down", 30);
            };
        }
    }

    private void health(Context ctx) {
        ObjectNode body = json.object();
        State s = state;
        body.put("status", switch (s) {
            case READY -> "ok";
            case LOADING -> "loading";
            case FAILED -> "failed";
            default -> "shutting_down";
        });
        if (s == State.FAILED) {
            body.put("error", failure);
        }
        if (modelId != null) {
            body.put("model", modelId);
        }
        ctx.status(s == State.READY ? 200 : 503).contentType("application/json").result(json.write(body));
    }

    private void models(Context ctx) {
        ObjectNode body = json.object();
        body.put("object", "list");
        var data = body.putArray("data");
        if (state == State.READY || state == State.DRAINING) {
            data.add(modelObject());
        }
        ctx.contentType("application/json").result(json.write(body));
    }

    private void model(Context ctx) {
        String id = ctx.pathParam("id");
        if (modelId == null || !modelId.equals(id)) {
            throw ApiException.modelNotFound(id);
        }
        ctx.contentType("application/json").result(json.write(modelObject()));
    }

    private ObjectNode modelObject() {
        ObjectNode m = json.object();
        m.put("id", modelId);
        m.put("object", "model");
        m.put("created", loadedAt);
        m.put("owned_by", "dcformer4j");
        // Not an OpenAI field (clients ignore it): how chat messages become the prompt.
        m.put("chat_format", chatFormat.name());
        return m;
    }

    /** With an API key configured, every /v1 and /metrics request must carry {@code Authorization: Bearer KEY}. */
    private void authorize(Context ctx) {
        String key = config.apiKey();
        String path = ctx.path();
        if (key == null || !(path.startsWith("/v1/") || path.equals("/v1") || path.equals("/metrics"))) {
            return;
        }
        String auth = ctx.header("Authorization");
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("Missing API key: send the header 'Authorization: Bearer YOUR_KEY'");
        }
        byte[] given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, key.getBytes(StandardCharsets.UTF_8))) {
            throw ApiException.unauthorized("Incorrect API key provided");
        }
    }

    private void writeError(Context ctx, ApiException e) {
        ObjectNode body = json.object();
        ObjectNode error = body.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type());
        error.put("param", e.param());
        error.put("code", e.code());
        if (e.retryAfterSeconds() != null) {
            ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        ctx.status(e.status()).contentType("application/json").result(json.write(body));
        metrics.error(e.type());
    }

    private static void checkBind(ServerConfig config) {
        InetAddress address;
        try {
            address = InetAddress.getByName(config.host());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host '" + config.host() + "': " + e.getMessage(), e);
        }
        if (!address.isLoopbackAddress() && config.apiKey() == null) {
            throw new IllegalArgumentException("refusing to bind " + config.host() + " (not a loopback address) without"
                    + " an API key: pass --api-key KEY or set DCFORMER4J_API_KEY, or bind 127.0.0.1");
        }
    }

    /** Drains with the configured timeout, then stops; see {@link #shutdown(Duration)}. */
    @Override
    public void close() {
        shutdown(config.drainTimeout());
    }

    /**
     * Stops taking requests (503), lets running ones finish for up to {@code drain}, cancels what is left,
     * stops the HTTP server and closes the model if this server loaded it. Idempotent.
     */
    public void shutdown(Duration drain) {
        synchronized (this) {
            if (state == State.STOPPED || state == State.DRAINING) {
                return;
            }
            state = State.DRAINING;
        }
        long deadline = System.nanoTime() + drain.toNanos();
        waitIdle(deadline);
        Engine e = engine;
        if (inFlight.get() > 0 && e != null) {
            LOG.warning(() -> inFlight.get() + " request(s) still running after the drain timeout: cancelling them");
            e.cancelAll();
            waitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
        }
        app.stop();
        state = State.STOPPED;
        if (ownsModel && model != null) {
            model.close();
            if (ownedBackend != null) {
                ownedBackend.close();
            }
        }
        metrics.close();
        loaded.countDown();
    }

    private void waitIdle(long deadline) {
        while (inFlight.get() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
