package io.dcformer4j.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a {@code bench} run measures and how long it tries.
 *
 * @param preset          the model shape
 * @param prefillLengths  prompt lengths T of the prefill measurements
 * @param decodeContexts  context lengths after which decode steps are timed
 * @param decodeSteps     decode steps timed per context (the median step counts)
 * @param reps            repetitions of each prefill measurement (the median counts)
 * @param bandwidthBytes  size of the streaming-read buffer (well above the last-level cache)
 * @param probeSeconds    minimum duration of one timed batch of the GEMM probes
 * @param vsBlas          whether to time OpenBLAS at the same GEMM shapes
 * @param blasCandidates  where to look for OpenBLAS
 * @param seed            seed of weights and token ids
 * @param progress        receives one short status line per step (for stderr)
 * @param batchSizes      batch sizes B of the batched decode measurement (empty: not measured); the
 *                        sequences decode after the smallest decode context
 */
public record BenchOptions(BenchPreset preset, List<Integer> prefillLengths, List<Integer> decodeContexts, int decodeSteps,
                           int reps, long bandwidthBytes, double probeSeconds, boolean vsBlas, List<Path> blasCandidates,
                           long seed, Consumer<String> progress, List<Integer> batchSizes) {
    /** Validates and freezes the fields. */
    public BenchOptions {
        prefillLengths = List.copyOf(prefillLengths);
        decodeContexts = List.copyOf(decodeContexts);
        blasCandidates = List.copyOf(blasCandidates);
        batchSizes = List.copyOf(batchSizes);
        if (batchSizes.stream().anyMatch(b -> b < 1 || b > 64)) {
            throw new IllegalArgumentException("bench: batch sizes must be in [1, 64], got " + batchSizes);
        }
        if (decodeSteps <= 0 || reps <= 0 || bandwidthBytes <= 0 || !(probeSeconds > 0)) {
            throw new IllegalArgumentException("bench: decodeSteps, reps, bandwidthBytes and probeSeconds must be positive");
        }
    }

    /**
     * The project's measurement plan for its performance targets: prefill at T = 128, 512, 1024, decode after 512 and 2048 tokens.
     *
     * @param quick one repetition, fewer decode steps and a smaller bandwidth buffer, for a fast look
     */
    public static BenchOptions standard(BenchPreset preset, boolean quick, boolean vsBlas, Consumer<String> progress) {
        return new BenchOptions(preset, List.of(128, 512, 1024), List.of(512, 2048), quick ? 8 : 32, quick ? 1 : 3,
                1L << 30, quick ? 0.1 : 0.3, vsBlas, OpenBlas.defaultCandidates(), 42, progress, List.of());
    }

    /** Positions the longest measurement needs (a prefill, or a decode context plus its steps). */
    public int positionsNeeded() {
        int batch = batchSizes.isEmpty() ? 0 : batchContext() + batchPositions();
        return Math.max(Math.max(prefillLengths.stream().mapToInt(Integer::intValue).max().orElse(0),
                decodeContexts.stream().mapToInt(Integer::intValue).max().orElse(0) + decodeSteps + 1), batch);
    }

    /** Positions a batched sequence advances by: one untimed and {@code decodeSteps} timed steps per batch size. */
    public int batchPositions() {
        return (decodeSteps + 1) * batchSizes.size();
    }

    /** These options with other lengths (for short runs and tests). */
    public BenchOptions withLengths(List<Integer> prefill, List<Integer> decode, int steps) {
        return new BenchOptions(preset, prefill, decode, steps, reps, bandwidthBytes, probeSeconds, vsBlas, blasCandidates,
                seed, progress, batchSizes);
    }

    /** These options with another bandwidth buffer and probe duration. */
    public BenchOptions withProbes(long bytes, double seconds) {
        return new BenchOptions(preset, prefillLengths, decodeContexts, decodeSteps, reps, bytes, seconds, vsBlas,
                blasCandidates, seed, progress, batchSizes);
    }

    /** These options with OpenBLAS looked for in other places. */
    public BenchOptions withBlas(boolean compare, List<Path> candidates) {
        return new BenchOptions(preset, prefillLengths, decodeContexts, decodeSteps, reps, bandwidthBytes, probeSeconds,
                compare, candidates, seed, progress, batchSizes);
    }

    /** These options with a batched decode measurement at the given batch sizes. */
    public BenchOptions withBatchSizes(List<Integer> sizes) {
        return new BenchOptions(preset, prefillLengths, decodeContexts, decodeSteps, reps, bandwidthBytes, probeSeconds,
                vsBlas, blasCandidates, seed, progress, sizes);
    }

    /** The context the batched decode runs after: the smallest decode context (512 when there is none). */
    public int batchContext() {
        return decodeContexts.stream().mapToInt(Integer::intValue).min().orElse(512);
    }
}
