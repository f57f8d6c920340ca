package io.dcformer4j;

import java.time.Duration;

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
 * <p>Admission: before a generation starts it reserves, in the model's
 * {@link io.dcformer4j.model.CacheBudget cache budget}, the cache its sequence may grow to (prompt plus
 * {@code maxNewTokens}, at most the session's context). When that does not fit yet it waits, first come first
 * served and cancellable, for at most {@code admissionTimeout}; one that needs more than the whole budget is
 * refused at once with a {@link io.dcformer4j.model.CacheBudgetExceededException} naming the sizes.
 *
 * @param batching         whether concurrent generations share decode steps
 * @param maxBatch         the most sequences one decode step takes (more wait for the next step), 1 to 64
 * @param admissionTimeout the longest a generation waits for cache budget before it is refused, positive
 * @param cacheBudget      the model's cache budget in bytes, or 0 for the default (the system property
 *                         {@value io.dcformer4j.model.CacheBudget#PROPERTY}, else a share of the free memory)
 */
public record EngineOptions(boolean batching, int maxBatch, Duration admissionTimeout, long cacheBudget) {
    /** The system property that turns batching off ({@code false}) or on ({@code true}, the default). */
    public static final String BATCHING_PROPERTY = "dcformer4j.batching";
    /** The default {@link #maxBatch()}. */
    public static final int DEFAULT_MAX_BATCH = 32;
    /** The default {@link #admissionTimeout()}. */
    public static final Duration DEFAULT_ADMISSION_TIMEOUT = Duration.ofMinutes(2);

    /** Validates the fields. */
    public EngineOptions {
        if (maxBatch < 1 || maxBatch > 64) {
            throw new IllegalArgumentException("maxBatch must be in [1, 64], got " + maxBatch);
        }
        if (admissionTimeout == null || admissionTimeout.isNegative() || admissionTimeout.isZero()) {
            throw new IllegalArgumentException("admissionTimeout must be positive, got " + admissionTimeout);
        }
        if (cacheBudget < 0) {
            throw new IllegalArgumentException("cacheBudget must be positive bytes, or 0 for the default; got " + cacheBudget);
        }
    }

    /** Options with the default admission timeout and cache budget. */
    public EngineOptions(boolean batching, int maxBatch) {
        this(batching, maxBatch, DEFAULT_ADMISSION_TIMEOUT, 0);
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
        return new EngineOptions(on, maxBatch, admissionTimeout, cacheBudget);
    }

    /** These options with another batch limit. */
    public EngineOptions withMaxBatch(int rows) {
        return new EngineOptions(batching, rows, admissionTimeout, cacheBudget);
    }

    /** These options with another admission timeout. */
    public EngineOptions withAdmissionTimeout(Duration timeout) {
        return new EngineOptions(batching, maxBatch, timeout, cacheBudget);
    }

    /** These options with a cache budget of {@code bytes} (0: the default). */
    public EngineOptions withCacheBudget(long bytes) {
        return new EngineOptions(batching, maxBatch, admissionTimeout, bytes);
    }
}
