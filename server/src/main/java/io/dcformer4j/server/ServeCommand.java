package io.dcformer4j.server;

import io.dcformer4j.model.Quantization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code serve}: runs the OpenAI-compatible server until SIGTERM or Ctrl-C, then drains. A picocli command
 * so that the command-line tool can mount it as a subcommand; {@link ServerMain} runs it alone.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over the OpenAI HTTP API (/v1/completions, /v1/chat/completions, /v1/models, /health, /metrics).")
public final class ServeCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR", description = "Model directory. Default: the demo DCFormer.")
    Path model;

    @Option(names = "--model-name", paramLabel = "ID", description = "Model id clients send (default: the directory name, or dcformer4j-demo).")
    String modelName;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address to bind (default: ${DEFAULT-VALUE}); a non-loopback address needs an API key.")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0 = any free port).")
    int port;

    @Option(names = "--backend", paramLabel = "NAME", description = "Backend (cpu, cuda). Default: the selection rules.")
    String backend;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0", description = "Backend worker threads (default: all processors).")
    int threads;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8", description = "Generations running at once (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "Requests that may wait for a slot; more get 429 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0",
            description = "Most tokens per request, prompt and completion (default: the model's block size).")
    int ctxSize;

    @Option(names = "--api-key", paramLabel = "KEY",
            description = "Bearer key required on /v1 and /metrics (default: env DCFORMER4J_API_KEY, else none).")
    String apiKey;

    @Option(names = "--idle-timeout-seconds", paramLabel = "S", defaultValue = "600",
            description = "Close a connection after this long without traffic, queueing and generating included (default: ${DEFAULT-VALUE}).")
    int idleSeconds;

    @Option(names = "--quantize", paramLabel = "TYPE", defaultValue = "none",
            description = "none (the default: weights as the checkpoint has them) or q8_0 (projection weights stored as "
                    + "8-bit blocks, quantized at load: about half the bytes of BF16).")
    String quantize;

    @Option(names = "--drain-seconds", paramLabel = "S", defaultValue = "30",
            description = "On SIGTERM, how long running requests may finish (default: ${DEFAULT-VALUE}).")
    int drainSeconds;

    private Quantization quantization() {
        try {
            return Quantization.parse(quantize);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--quantize: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        String key = apiKey != null ? apiKey : System.getenv("DCFORMER4J_API_KEY");
        ServerConfig config = ServerConfig.builder().host(host).port(port).model(model).modelName(modelName)
                .backend(backend).threads(threads).maxBatch(maxBatch).queueLimit(queue).contextSize(ctxSize).apiKey(key)
                .idleTimeout(Duration.ofSeconds(idleSeconds)).drainTimeout(Duration.ofSeconds(drainSeconds))
                .quantization(quantization()).build();
        DCFormerServer server = DCFormerServer.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("dcformer4j serve: draining (up to " + drainSeconds + " s)");
            server.close();
            stopped.countDown();
        }, "dcformer4j-drain"));
        System.err.println("dcformer4j serve: listening on " + server.baseUrl() + " (loading the model)");
        if (server.awaitReady(Duration.ofDays(1))) {
            System.err.println("dcformer4j serve: model '" + server.modelId() + "' ready at " + server.baseUrl() + "/v1");
        }
        stopped.await();
        return 0;
    }
}
