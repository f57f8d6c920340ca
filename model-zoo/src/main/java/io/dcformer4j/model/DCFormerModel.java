package io.dcformer4j.model;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.nio.file.Path;
import java.util.List;

/**
 * A DCFormer++ or DCPythia network (or its plain-MHA baseline) bound to one backend. The weights are shared,
 * read-only backend tensors; all per-sequence state lives in {@link Session}s, so any number of sessions can
 * run on one model from several threads.
 *
 * <p>Two ways in:
 * <ul>
 *   <li>{@link #load(Path, Backend)} reads {@code config.json} and the checkpoint of a model directory; the
 *       model owns (and closes) the checkpoint.</li>
 *   <li>{@link #create(ModelConfig, WeightSource, Backend)} binds any {@link WeightSource}, for example
 *       {@link RandomWeights#generate} for benchmarks; the caller keeps the source open while the model lives
 *       and closes it afterwards.</li>
 * </ul>
 *
 * <p>Checkpoint names follow spec §5: either the fused {@code attention.wqkv} or separate
 * {@code wq}/{@code wk}/{@code wv} (and their biases) are accepted; derived and cache entries
 * ({@code dw_m}, {@code qkw_m}, {@code kv_cache.*}, and {@code pre_proj.w}/{@code post_proj.w} unless
 * {@code use_sw}) are ignored. A missing tensor or a shape that disagrees with the configuration is an
 * {@link IllegalArgumentException} naming the tensor, its shape and the expected shape.
 */
public final class DCFormerModel implements AutoCloseable {
    private final ModelConfig config;
    private final Backend backend;
    private final WeightSource ownedSource;
    private final List<Tensor> tensors;
    private final Tensor embedding;
    private final LayerWeights.Norm finalNorm;
    private final Tensor output;
    private final LayerWeights[] layers;
    private final AttentionSpec[] attention;
    private final RopeSpec rope;
    private final int rank;
    private final int hidden;
    private final CacheBudget cacheBudget;
    private final Quantization quantization;
    /** Owns the copies made at load (Q8_0 quantizations, dw_m; freed on close). */
    private final WeightBinder binder;
    private boolean closed;

    private DCFormerModel(ModelConfig config, WeightSource source, Backend backend, boolean ownsSource,
                          Quantization quantization) {
        if (quantization == null) {
            throw new IllegalArgumentException("quantization is null (use Quantization.NONE)");
        }
        this.config = config;
        this.backend = backend;
        this.quantization = quantization;
        WeightBinder b = new WeightBinder(source, backend, quantization);
        this.binder = b;
        try {
            int e = config.dim();
            int n = config.numHeads();
            this.rank = config.useDcmha() ? composeRank(config, b) : 0;
            this.hidden = config.useDcmha() ? b.shapeOf(WeightLayout.layer(0) + "attention.dyn_w_proj.qkw").dim(-3) : 0;
            Shape table = Shape.of(config.vocabSize(), e);
            boolean pythia = config.family() == ModelFamily.DCPYTHIA;

            this.embedding = b.matrix("tok_embeddings.weight", table);
            this.finalNorm = new LayerWeights.Norm(b.vector("norm.weight", Shape.of(e)),
                    pythia ? b.vector("norm.bias", Shape.of(e)) : null);
            if (!b.has("output.weight") && config.tieWordEmbeddings()) {
                this.output = embedding;
            } else {
                this.output = b.projection("output.weight", table);
            }
            this.layers = new LayerWeights[config.numLayers()];
            this.attention = new AttentionSpec[config.numLayers()];
            for (int i = 0; i < layers.length; i++) {
                layers[i] = LayerBinding.bind(i, config, b, rank, hidden);
                attention[i] = new AttentionSpec(config.attentionMode(), n, config.headDim(), rank, config.window(i),
                        config.r24PrefillWindowPlusOne(), layers[i].compose().staticPre(), layers[i].compose().staticPost());
            }
            this.rope = new RopeSpec(config.headDim(), config.rotaryDim(), config.ropeBase());
            this.tensors = List.copyOf(b.bound());
            this.ownedSource = ownsSource ? source : null;
            this.cacheBudget = CacheBudget.fromEnvironment();
        } catch (RuntimeException ex) {
            for (Tensor t : b.bound()) {
                t.close();
            }
            b.closeCopies();
            throw ex;
        }
    }

    /**
     * Loads the model in directory {@code dir} ({@code config.json} and its safetensors or PyTorch checkpoint).
     *
     * @throws IllegalArgumentException naming the file, field or tensor when the model is malformed
     */
    public static DCFormerModel load(Path dir, Backend backend) {
        return load(dir, ModelConfig.load(dir), backend);
    }

    /** Loads the checkpoint in {@code dir} with a given configuration (for example one with the R24 switch on). */
    public static DCFormerModel load(Path dir, ModelConfig config, Backend backend) {
        return load(dir, config, backend, Quantization.NONE);
    }

    /**
     * Loads the checkpoint in {@code dir}, quantizing its projection weights as {@code quantization} says
     * (see {@link Quantization} for which tensors).
     *
     * @throws IllegalArgumentException as {@link #load(Path, Backend)}, or when the backend lacks Q8_0 weights
     */
    public static DCFormerModel load(Path dir, ModelConfig config, Backend backend, Quantization quantization) {
        WeightSource source = WeightSource.open(dir);
        try {
            return new DCFormerModel(config, source, backend, true, quantization);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
    }

    /**
     * Binds {@code source} to {@code backend} under {@code config}. The source is not closed by the model
     * and must stay open until the model is closed.
     */
    public static DCFormerModel create(ModelConfig config, WeightSource source, Backend backend) {
        return new DCFormerModel(config, source, backend, false, Quantization.NONE);
    }

    /** As {@link #create(ModelConfig, WeightSource, Backend)}, quantizing projections as {@code quantization} says. */
    public static DCFormerModel create(ModelConfig config, WeightSource source, Backend backend,
                                       Quantization quantization) {
        return new DCFormerModel(config, source, backend, false, quantization);
    }

    /** The quantization asked for at load ({@link Quantization#NONE} also for a checkpoint stored in Q8_0). */
    public Quantization quantization() {
        return quantization;
    }

    private static int composeRank(ModelConfig c, WeightBinder b) {
        String name = WeightLayout.layer(0) + "attention.dyn_w_proj.qkw";
        Shape s = b.shapeOf(name);
        if (s.rank() < 3 || s.dim(-2) % 2 != 0 || s.dim(-1) != c.numHeads()) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + s + ", expected [1, 4, K, 2I, "
                    + c.numHeads() + "]");
        }
        return s.dim(-2) / 2;
    }

    /** The configuration. */
    public ModelConfig config() {
        return config;
    }

    /** The backend holding the weights. */
    public Backend backend() {
        return backend;
    }

    /**
     * The bytes all sessions of this model may hold in KV caches (see {@link CacheBudget}); set its limit to
     * bound them.
     */
    public CacheBudget cacheBudget() {
        return cacheBudget;
    }

    /** A new sequence with room for {@code block_size} positions. */
    public Session newSession() {
        return newSession(config.blockSize());
    }

    /**
     * A new sequence with room for {@code maxContext} positions (at most {@code block_size}). Caches grow with
     * the sequence, on backends that support it, so the maximum costs nothing until it is used; each step
     * reserves its growth in {@link #cacheBudget()} first.
     */
    public Session newSession(int maxContext) {
        return newSession(maxContext, Session.MAX_CHUNK);
    }

    /** As {@link #newSession(int)} with prefills run in pieces of at most {@code maxChunk} rows (for tests). */
    Session newSession(int maxContext, int maxChunk) {
        checkOpen();
        if (maxContext <= 0 || maxContext > config.blockSize()) {
            throw new IllegalArgumentException("maxContext must be in [1, block_size=" + config.blockSize() + "], got "
                    + maxContext);
        }
        return new Session(this, maxContext, maxChunk);
    }

    /**
     * A batched decode step for up to {@code maxRows} sessions of this model at once (its scratch tensors are
     * allocated now and kept); see {@link DecodeBatch}.
     */
    public DecodeBatch newDecodeBatch(int maxRows) {
        checkOpen();
        return new DecodeBatch(this, maxRows);
    }

    LayerWeights layer(int i) {
        return layers[i];
    }

    AttentionSpec attention(int i) {
        return attention[i];
    }

    RopeSpec rope() {
        return rope;
    }

    int composeRank() {
        return rank;
    }

    /** K, the hidden width of the dynamic-weight MLP (0 for plain MHA). */
    int composeHidden() {
        return hidden;
    }

    Tensor embedding() {
        return embedding;
    }

    LayerWeights.Norm finalNorm() {
        return finalNorm;
    }

    Tensor output() {
        return output;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model " + config + " is closed");
        }
    }

    /** Releases the weight tensors (and the checkpoint when the model opened it). Sessions must be closed first. */
    @Override
    public synchronized void close() {
        if (closed) {
            throw new IllegalStateException("model closed twice");
        }
        closed = true;
        for (Tensor t : tensors) {
            t.close();
        }
        binder.closeCopies();
        if (ownedSource != null) {
            ownedSource.close();
        }
    }
}
