package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The SPI promises that concurrent calls with distinct outputs are safe. Several threads (more than the
 * backend's workers) each drive their own cache through prefill and decode, or their own linear and norm
 * calls, on one backend, round after round; every result must equal the same work done alone. A race on
 * shared scratch memory shows only with some interleavings, so this is repetition, not proof.
 */
abstract class ConcurrencyChecks extends Checks {
    private static final int THREADS = 5;
    private static final int ROUNDS = 6;

    /** One thread's work: returns its outputs. */
    private interface Work {
        float[] run(Backend b, int thread);
    }

    private void concurrentEqualsSolo(String what, Work work) {
        Backend b = backend();
        float[][] solo = new float[THREADS][];
        for (int t = 0; t < THREADS; t++) {
            solo[t] = work.run(b, t);
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                CyclicBarrier start = new CyclicBarrier(THREADS);
                List<Future<float[]>> futures = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    futures.add(pool.submit(() -> {
                        start.await(30, TimeUnit.SECONDS);
                        return work.run(b, thread);
                    }));
                }
                for (int t = 0; t < THREADS; t++) {
                    float[] result;
                    try {
                        result = futures.get(t).get(120, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError(what + ": thread " + t + " of " + THREADS + " failed in round " + round + ": " + e, e);
                    }
                    Check.agree(what + ", thread " + t + " of " + THREADS + ", round " + (round + 1) + " of " + ROUNDS, new int[] {result.length},
                            result, "the call made beside " + (THREADS - 1) + " other threads", solo[t], "the same call made alone",
                            Tolerances.CONCURRENT);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void attentionConcurrentCachesEqualSoloRuns() {
        AttentionCase[] cases = new AttentionCase[THREADS];
        int[][] plans = new int[THREADS][];
        int[] capacities = new int[THREADS];
        for (int t = 0; t < THREADS; t++) {
            int window = t % 2 == 0 ? 0 : 8;
            int prefill = 20 + 37 * t;
            plans[t] = AttentionPlans.ones(prefill, 6);
            cases[t] = AttentionCase.random(tck(), t == 4 ? AttentionMode.QUERY_WISE : AttentionMode.DCMHA, 4, 8, 2, window, false, false,
                    prefill + 6, 1.0);
            capacities[t] = window == 0 ? prefill + 6 : window;
        }
        for (int t = 0; t < THREADS; t++) {
            float[] out = cases[t].run(tck(), backend(), capacities[t], plans[t], true);
            AttentionPlans.check("thread " + t + "'s sequence, run alone", cases[t], capacities[t], plans[t], out, Tolerances.ATTENTION);
        }
        KvCache[] caches = new KvCache[THREADS];
        for (int t = 0; t < THREADS; t++) {
            AttentionCase c = cases[t];
            caches[t] = tck().own(backend().allocateKvCache(new KvCacheSpec(capacities[t], c.n, c.d, c.rank, c.mode.usesKeySide())));
        }
        concurrentEqualsSolo("attention, each thread its own cache (prefill + 6 decodes)", (b, t) -> {
            caches[t].reset();
            return cases[t].run(tck(), b, caches[t], plans[t], true);
        });
    }

    @Test
    void linearAndNormsConcurrentCallsEqualSoloRuns() {
        int[][] shapes = {{1, 1500, 257}, {3, 700, 130}, {37, 300, 203}, {9, 2560, 65}, {64, 200, 96}};
        float[][] xs = new float[THREADS][];
        float[][] ws = new float[THREADS][];
        float[][] gains = new float[THREADS][];
        for (int t = 0; t < THREADS; t++) {
            int[] s = shapes[t];
            xs[t] = tck().normal(s[0] * s[1], 1.0);
            ws[t] = tck().normal(s[2] * s[1], 0.5);
            gains[t] = tck().normal(s[2], 0.5);
        }
        concurrentEqualsSolo("linear BF16 weights, then rmsNorm and softmax of its output, each thread its own tensors", (b, t) -> {
            int[] s = shapes[t];
            Tensor x = tck().tensor(b, DType.F32, xs[t], "x", s[0], s[1]);
            Tensor w = tck().weights(b, DType.BF16, ws[t], "w", s[2], s[1]);
            Tensor y = tck().tensor(b, DType.F32, new float[s[0] * s[2]], "y", s[0], s[2]);
            Tensor z = tck().tensor(b, DType.F32, new float[s[0] * s[2]], "z", s[0], s[2]);
            b.linear(x, w, null, y);
            b.rmsNorm(y, tck().tensor(b, DType.F32, gains[t], "gain", s[2]), 1e-5f, z);
            b.softmax(z, y);
            float[] result = y.toFloatArray();
            for (Tensor tensor : new Tensor[] {x, w, y, z}) {
                tensor.close();
            }
            return result;
        });
    }
}
