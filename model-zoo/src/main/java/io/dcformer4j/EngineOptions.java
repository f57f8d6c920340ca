package io.dcformer4j;

import io.dcformer4j.model.Quantization;

/**
 * How a {@link DCFormer} model runs the generations of its sessions.
 *
 * <p>With {@code batching} on (the default), concurrent {@code generate} calls on one model are batched:
 * a scheduler thread runs one decode step for every sequence that is ready, so the weights are read once per
 * step for all of them (continuous batching: sequences join and leave between steps). Sampling, stop rules,
 * streaming and cancellation stay on each caller's thread. A sequence's output is the same batched or alone
 * on the CPU backend (each row of a step is computed exactly as its own decode would be). Turn it off with
 * {@link #withBatching(boolean)} or the system property {@code -Ddcformer4j.batching=false}; each session
 * then runs its own forward passes on its caller's thread, as before.
 *
 * @param batching whether concurrent generations share decode steps
 * @param maxBatch the most sequences one decode step takes (more wait for the next step), 1 to 64
 * @param quantization how the projection weights are stored once loaded ({@link Quantization#NONE}: as the
 *                     checkpoint has them)
 */
public record EngineOptions(boolean batching, int maxBatch, Quantization quantization) {
    /** The system property that turns batching off ({@code false}) or on ({@code true}, the default). */
    public static final String BATCHING_PROPERTY = "dcformer4j.batching";
    /** The default {@link #maxBatch()}. */
    public static final int DEFAULT_MAX_BATCH = 32;

    /** Validates the fields. */
    public EngineOptions {
        if (maxBatch < 1 || maxBatch > 64) {
            throw new IllegalArgumentException("maxBatch must be in [1, 64], got " + maxBatch);
        }
        if (quantization == null) {
            throw new IllegalArgumentException("quantization is null (use Quantization.NONE)");
        }
    }

    /** Batching options with the weights as the checkpoint stores them. */
    public EngineOptions(boolean batching, int maxBatch) {
        this(batching, maxBatch, Quantization.NONE);
    }

    /** Batching as the system property {@value #BATCHING_PROPERTY} says (on unless it is {@code false}), 32 rows. */
    public static EngineOptions defaults() {
        String p = System.getProperty(BATCHING_PROPERTY);
        if (p != null && !p.equalsIgnoreCase("true") && !p.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException("system property " + BATCHING_PROPERTY + " must be true or false, got '" + p + "'");
        }
        return new EngineOptions(p == null || Boolean.parseBoolean(p), DEFAULT_MAX_BATCH);
    }

    /** These options with batching on or off. */
    public EngineOptions withBatching(boolean on) {
        return new EngineOptions(on, maxBatch, quantization);
    }

    /** These options with another batch limit. */
    public EngineOptions withMaxBatch(int rows) {
        return new EngineOptions(batching, rows, quantization);
    }

    /**
     * These options with the projection weights quantized at load: {@code withQuantization(Quantization.Q8_0)}
     * stores them as 8-bit blocks (about half the bytes of BF16 read per token; which tensors, and the
     * accuracy measured, in {@link Quantization} and docs/performance.md).
     */
    public EngineOptions withQuantization(Quantization q) {
        return new EngineOptions(batching, maxBatch, q);
    }
}
