package io.dcformer4j.bench;

import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Batched decode of the DCMHA model: B sequences, each after {@code context} tokens, stepped together (one pass
 * over the weights per step), timed for every batch size B in one run.
 *
 * @param context     tokens in each sequence before the timed steps
 * @param steps       timed steps per batch size (the median counts)
 * @param stepSeconds median wall time of one batched step, per batch size
 */
public record BatchTiming(int context, int steps, SortedMap<Integer, Double> stepSeconds) {
    /** Freezes the map. */
    public BatchTiming {
        stepSeconds = new TreeMap<>(stepSeconds);
    }

    /** Aggregate decode tokens/s per batch size: B / step time. */
    public SortedMap<Integer, Double> tokensPerS() {
        SortedMap<Integer, Double> m = new TreeMap<>();
        stepSeconds.forEach((b, s) -> m.put(b, b / s));
        return m;
    }

    /** Per-sequence step latency (ms) per batch size: each sequence gets one token per step. */
    public SortedMap<Integer, Double> stepLatencyMs() {
        SortedMap<Integer, Double> m = new TreeMap<>();
        stepSeconds.forEach((b, s) -> m.put(b, s * 1e3));
        return m;
    }

    /** Aggregate tokens/s ÷ that of batch 1 (NaN without a batch-1 measurement). */
    public SortedMap<Integer, Double> throughputVsSingle() {
        Double one = stepSeconds.get(1);
        SortedMap<Integer, Double> m = new TreeMap<>();
        stepSeconds.forEach((b, s) -> m.put(b, one == null ? Double.NaN : (b / s) * one));
        return m;
    }

    /** Per-sequence step latency ÷ that of batch 1. */
    public SortedMap<Integer, Double> latencyVsSingle() {
        Double one = stepSeconds.get(1);
        SortedMap<Integer, Double> m = new TreeMap<>();
        stepSeconds.forEach((b, s) -> m.put(b, one == null ? Double.NaN : s / one));
        return m;
    }
}
