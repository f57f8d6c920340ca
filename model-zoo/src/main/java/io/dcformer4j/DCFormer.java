package io.dcformer4j;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendSelection;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.checkpoint.WeightSource;
import io.dcformer4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedding entry point: a loaded model with its tokenizer, and sessions that generate text.
 *
 * <pre>{@code
 * try (DCFormer model = DCFormer.demo();                   // or DCFormer.load(Path.of("my-model"))
 *      GenerationSession session = model.newSession()) {
 *     String text = session.generate("Mary has a pen.", GenerationConfig.greedy(20),
 *             (piece, token) -> System.out.print(piece));
 * }
 * }</pre>
 *
 * <p>A model directory holds {@code config.json}, the checkpoint ({@code model.safetensors}, a sharded
 * index or {@code pytorch_model.bin}) and {@code tokenizer.json}. The weights are shared read-only by all
 * sessions; sessions may run on different threads at once, and their concurrent generations share decode
 * steps unless {@link EngineOptions} turn batching off. Closing the model closes its sessions; a closed
 * model refuses every use with an {@link IllegalStateException}.
 */
public final class DCFormer implements AutoCloseable {
    private final Path directory;
    private final DCFormerModel model;
    private final WeightSource weights;
    private final Backend ownedBackend;
    private final Tokenizer tokenizer;
    private final BackendSelection selection;
    private final Set<GenerationSession> sessions = ConcurrentHashMap.newKeySet();
    private final EngineOptions options;
    private final BatchScheduler scheduler;
    private volatile boolean closed;

    /** {@code selection}: how the model chose and opened its own backend (which it then owns), or null. */
    private DCFormer(Path directory, DCFormerModel model, WeightSource weights, BackendSelection selection, Tokenizer tokenizer,
                     EngineOptions options) {
        this.directory = directory;
        this.model = model;
        this.weights = weights;
        this.selection = selection;
        this.ownedBackend = selection == null ? null : selection.backend();
        this.tokenizer = tokenizer;
        this.options = options;
        this.scheduler = options.batching() ? new BatchScheduler(model, options.maxBatch()) : null;
        if (options.cacheBudget() > 0) {
            model.cacheBudget().setLimit(options.cacheBudget());
        }
    }

    /**
     * Loads a model directory on the backend chosen by the selection rules; the backend is closed with the
     * model. When no backend is named and the best one fails to open, a warning line goes to standard error and
     * the next is used; {@link #backendSelection()} tells which and why.
     */
    public static DCFormer load(Path dir) {
        return load(dir, EngineOptions.defaults());
    }

    /** As {@link #load(Path)} with engine options (batching on or off). */
    public static DCFormer load(Path dir, EngineOptions options) {
        BackendSelection selection = Backends.select(null, BackendOptions.defaults());
        Backend backend = selection.backend();
        try {
            return open(dir, backend, selection, LoadListener.NONE, options);
        } catch (RuntimeException | Error e) {
            backend.close();
            throw e;
        }
    }

    /** Loads a model directory on a backend the caller owns (it stays open after {@link #close()}). */
    public static DCFormer load(Path dir, Backend backend) {
        return open(dir, backend, null, LoadListener.NONE, EngineOptions.defaults());
    }

    /** As {@link #load(Path, Backend)} with engine options (batching on or off). */
    public static DCFormer load(Path dir, Backend backend, EngineOptions options) {
        return open(dir, backend, null, LoadListener.NONE, options);
    }

    /** As {@link #load(Path, Backend, EngineOptions)}, reporting per-tensor progress to {@code listener}. */
    public static DCFormer load(Path dir, Backend backend, EngineOptions options, LoadListener listener) {
        return open(dir, backend, null, listener == null ? LoadListener.NONE : listener, options);
    }

    /** As {@link #load(Path, Backend)}, reporting per-tensor progress to {@code listener}. */
    public static DCFormer load(Path dir, Backend backend, LoadListener listener) {
        return open(dir, backend, null, listener == null ? LoadListener.NONE : listener, EngineOptions.defaults());
    }

    /** The shipped demo DCFormer (no download), on the backend chosen by the selection rules. */
    public static DCFormer demo() {
        return load(DemoModels.directory("dcformer"));
    }

    /** The shipped demo DCFormer on a backend the caller owns. */
    public static DCFormer demo(Backend backend) {
        return load(DemoModels.directory("dcformer"), backend);
    }

    /** The shipped plain-MHA baseline of the demo (same size, data and training steps), on a caller's backend. */
    public static DCFormer demoBaseline(Backend backend) {
        return load(DemoModels.directory("mha"), backend);
    }

    /**
     * The directory of a shipped demo model: {@code "dcformer"} or {@code "mha"} (copied out of the jar when
     * needed).
     *
     * @throws IllegalStateException when this build has no such demo model
     */
    public static Path demoDirectory(String variant) {
        if (!variant.equals("dcformer") && !variant.equals("mha")) {
            throw new IllegalArgumentException("demo variant must be 'dcformer' or 'mha', got '" + variant + "'");
        }
        return DemoModels.directory(variant);
    }

    private static DCFormer open(Path dir, Backend backend, BackendSelection owned, LoadListener listener,
                                 EngineOptions options) {
        if (options == null) {
            throw new IllegalArgumentException("engine options are null");
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("model directory " + dir + " does not exist or is not a directory");
        }
        ModelConfig config = ModelConfig.load(dir);
        Tokenizer tokenizer = null;
        Path tokFile = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tokFile)) {
            try {
                tokenizer = Tokenizer.load(tokFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + tokFile + ": " + e.getMessage(), e);
            }
        }
        WeightSource source = WeightSource.open(dir);
        try {
            DCFormerModel model = DCFormerModel.create(config, new ProgressWeightSource(source, listener), backend,
                    options.quantization());
            return new DCFormer(dir, model, source, owned, tokenizer, options);
        } catch (RuntimeException | Error e) {
            source.close();
            throw e;
        }
    }

    /**
     * The tokenizer read from the model directory's {@code tokenizer.json}.
     *
     * @throws IllegalStateException when the directory has none
     */
    public Tokenizer tokenizer() {
        checkOpen();
        if (tokenizer == null) {
            throw new IllegalStateException("model directory " + directory + " has no tokenizer.json: text cannot be encoded");
        }
        return tokenizer;
    }

    /** The network, for logits-level use. */
    public DCFormerModel model() {
        checkOpen();
        return model;
    }

    /** The configuration. */
    public ModelConfig config() {
        checkOpen();
        return model.config();
    }

    /** The backend the weights live on. */
    public Backend backend() {
        checkOpen();
        return model.backend();
    }

    /** The engine options (whether concurrent generations are batched). */
    public EngineOptions options() {
        return options;
    }

    /** The decode steps the batch scheduler has run and the rows they carried (zeros with batching off). */
    public DecodeStatistics decodeStatistics() {
        if (scheduler == null) {
            return new DecodeStatistics(0, 0);
        }
        long[] sr = scheduler.stepsAndRows();
        return new DecodeStatistics(sr[0], sr[1]);
    }

    /** The batch scheduler, or null when batching is off. */
    BatchScheduler scheduler() {
        return scheduler;
    }

    /**
     * How this model's backend was chosen (the rule, and any provider that failed to open first) when the model
     * opened it itself; empty for a backend the caller passed in.
     */
    public Optional<BackendSelection> backendSelection() {
        return Optional.ofNullable(selection);
    }

    /** The directory the model was loaded from. */
    public Path directory() {
        return directory;
    }

    /** A new session with room for {@code block_size} tokens. */
    public GenerationSession newSession() {
        return newSession(model.config().blockSize());
    }

    /**
     * A new session with room for {@code maxContext} tokens (at most {@code block_size}). Its caches grow with
     * the sequence; a generation first reserves what its sequence may reach in the model's cache budget
     * ({@link DCFormerModel#cacheBudget()}), waiting its turn while other generations hold it (see
     * {@link EngineOptions}), and is refused with a {@link io.dcformer4j.model.CacheBudgetExceededException}
     * naming the sizes when it can never fit or waited too long.
     */
    public GenerationSession newSession(int maxContext) {
        checkOpen();
        GenerationSession s = new GenerationSession(this, model.newSession(maxContext));
        sessions.add(s);
        return s;
    }

    void forget(GenerationSession s) {
        sessions.remove(s);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this DCFormer model (" + directory + ") is closed");
        }
    }

    /** Closes open sessions, releases the weights and the checkpoint, and the backend when this model opened it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        List<GenerationSession> open = new ArrayList<>(sessions);
        for (GenerationSession s : open) {
            s.cancel();
        }
        for (GenerationSession s : open) {
            s.close();
        }
        closed = true;
        if (scheduler != null) {
            scheduler.close();
        }
        try {
            model.close();
        } finally {
            weights.close();
            if (ownedBackend != null) {
                ownedBackend.close();
            }
        }
    }
}
