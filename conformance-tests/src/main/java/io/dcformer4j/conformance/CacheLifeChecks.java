package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import org.junit.jupiter.api.Test;

/**
 * The life of a cache: {@code reset()} followed by a sequence shorter than the window and than the previous
 * one (a backend that remembers "the ring has wrapped", or the old length, reads stale keys), and two caches
 * of one backend driven alternately step by step (a backend that keeps per-sequence state in the backend
 * instead of the cache mixes them up).
 */
abstract class CacheLifeChecks extends Checks {
    private static final int N = 4;
    private static final int D = 8;
    private static final int RANK = 2;

    private AttentionCase dcmha(int window, int positions) {
        return AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, window, false, false, positions, 1.0);
    }

    private KvCache cache(int capacity) {
        return tck().own(backend().allocateKvCache(new KvCacheSpec(capacity, N, D, RANK, true)));
    }

    private void resetThenShorter(String layer, int window, int capacity, int[] firstPlan, int[] secondPlan) {
        KvCache cache = cache(capacity);
        AttentionCase first = dcmha(window, AttentionPlans.length(firstPlan));
        AttentionPlans.runAndCheck(tck(), backend(), layer + ", first sequence", first, cache, firstPlan, Tolerances.ATTENTION_LONG);
        cache.reset();
        if (cache.length() != 0) {
            throw new AssertionError("attention cache: KvCache.reset() left length() = " + cache.length() + ", expected 0");
        }
        AttentionCase second = dcmha(window, AttentionPlans.length(secondPlan));
        AttentionPlans.runAndCheck(tck(), backend(), layer + ", a shorter sequence after reset() of a cache that held "
                + AttentionPlans.length(firstPlan) + " positions", second, cache, secondPlan, Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionCacheResetThenShorterSequence() {
        resetThenShorter("global, cache of 64", 0, 64, AttentionPlans.ones(40, 10), new int[] {3, 1, 1});
        resetThenShorter("global, decode at position 0 after reset", 0, 64, AttentionPlans.ones(20, 3), new int[] {1, 1, 1, 4, 1});
        resetThenShorter("local W = 8, ring of 8 wrapped several times", 8, 8, AttentionPlans.ones(27, 6), new int[] {5, 1});
        resetThenShorter("local W = 8, decode at position 0 after reset", 8, 8, AttentionPlans.ones(20, 3), new int[] {1, 1, 1, 1});
        resetThenShorter("local W = 256, ring of 256 wrapped", 256, 256, AttentionPlans.ones(600, 2), new int[] {100, 1, 1});
        resetThenShorter("local W = 8, ring of 12 (capacity above the window)", 8, 12, AttentionPlans.ones(30, 2), new int[] {6, 1});
    }

    private void interleaved(String what, AttentionCase a, KvCache cacheA, int prefillA, AttentionCase b, KvCache cacheB, int prefillB,
                             int steps) {
        float[] outA = a.run(tck(), backend(), cacheA, new int[] {prefillA}, true);
        float[] outB = b.run(tck(), backend(), cacheB, new int[] {prefillB}, true);
        int width = N * D;
        float[] allA = new float[(prefillA + steps) * width];
        float[] allB = new float[(prefillB + steps) * width];
        System.arraycopy(outA, 0, allA, 0, outA.length);
        System.arraycopy(outB, 0, allB, 0, outB.length);
        for (int s = 0; s < steps; s++) {
            float[] stepA = a.runAt(tck(), backend(), cacheA, prefillA + s, 1);
            float[] stepB = b.runAt(tck(), backend(), cacheB, prefillB + s, 1);
            System.arraycopy(stepA, 0, allA, (prefillA + s) * width, width);
            System.arraycopy(stepB, 0, allB, (prefillB + s) * width, width);
        }
        int[] planA = AttentionPlans.ones(prefillA, steps);
        int[] planB = AttentionPlans.ones(prefillB, steps);
        AttentionPlans.check(what + ", cache A (decodes alternating with cache B)", a, cacheA.spec().capacity(), planA, allA,
                Tolerances.ATTENTION_LONG);
        AttentionPlans.check(what + ", cache B (decodes alternating with cache A)", b, cacheB.spec().capacity(), planB, allB,
                Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionTwoCachesInterleaved() {
        interleaved("two global caches of different lengths", dcmha(0, 40), cache(40), 30, dcmha(0, 17), cache(17), 7, 10);
        interleaved("two rings of W = 8 at different fill levels", dcmha(8, 30), cache(8), 20, dcmha(8, 13), cache(8), 3, 10);
        interleaved("a global cache and a W = 8 ring (the layers of one model)", dcmha(0, 300), cache(300), 290, dcmha(8, 15), cache(8), 5,
                10);
    }
}
