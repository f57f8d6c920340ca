package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import org.junit.jupiter.api.Test;

/**
 * Attention at the context lengths real models use: decode from position 0 (a one-token prompt) across every
 * power-of-two cache length up to past 2048 keys, on global layers and on ring caches of a 256-key window and
 * of a window above 512 keys; single prefill calls longer than 512 rows and than two windows; decode after a
 * prefill longer than any split a backend may choose; large logits where a decode is split. Backends change
 * code path exactly at these lengths (key tiles, decode splits, ring wrap-around), which toy sizes never reach.
 */
abstract class LongContextChecks extends Checks {
    private static final int N = 4;
    private static final int D = 8;
    private static final int RANK = 2;
    /** Past 2048 keys and past 132 decode splits of 16 keys. */
    private static final int LONG = 2120;

    private AttentionCase dcmha(int window, int positions, double qkScale) {
        return AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, window, false, false, positions, qkScale);
    }

    @Test
    void attentionDecodeFromPositionZeroPastEveryPowerOfTwoGlobal() {
        int[] plan = AttentionPlans.boundaryPlan(LONG, AttentionPlans.BOUNDARIES);
        AttentionPlans.runAndCheck(tck(), backend(), "global layer, decode from position 0 across cache lengths 16..2112",
                dcmha(0, LONG, 1.0), LONG, plan, Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionDecodeFromPositionZeroPastEveryPowerOfTwoWindow256() {
        int[] plan = AttentionPlans.boundaryPlan(LONG, AttentionPlans.BOUNDARIES);
        AttentionPlans.runAndCheck(tck(), backend(), "local W = 256 in a ring of 256, decode from position 0 across lengths 16..2112",
                dcmha(256, LONG, 1.0), 256, plan, Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionDecodeFromPositionZeroPastEveryPowerOfTwoWindow640() {
        int[] plan = AttentionPlans.boundaryPlan(LONG, AttentionPlans.BOUNDARIES);
        AttentionPlans.runAndCheck(tck(), backend(), "local W = 640 (above 512, not a power of two) in a ring of 640",
                dcmha(640, LONG, 1.0), 640, plan, Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionPrefillOf600RowsThenDecode() {
        int[] plan = AttentionPlans.ones(600, 3);
        AttentionPlans.runAndCheck(tck(), backend(), "global, one attentionPrefill call of 600 rows (above 512), then decodes",
                dcmha(0, 603, 1.0), 603, plan, Tolerances.ATTENTION_LONG);
        AttentionPlans.runAndCheck(tck(), backend(), "local W = 256, one attentionPrefill call of 600 rows (above 2 × window), then decodes",
                dcmha(256, 603, 1.0), 256, plan, Tolerances.ATTENTION_LONG);
        AttentionPlans.runAndCheck(tck(), backend(), "local W = 256 in a ring of 300 (capacity above the window)",
                dcmha(256, 603, 1.0), 300, plan, Tolerances.ATTENTION_LONG);
    }

    @Test
    void attentionDecodeAfterPrefillLongerThanAnySplitEqualsOnePrefill() {
        AttentionCase c = dcmha(0, 1100, 1.0);
        int[] plan = {1090, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        float[] decoded = AttentionPlans.runAndCheck(tck(), backend(), "global, decode after a 1090-row prefill", c, 1100, plan,
                Tolerances.ATTENTION_LONG);
        float[] once = c.run(tck(), backend(), 1100, new int[] {1100}, false);
        int width = N * D;
        Check.agree("global, decodes at positions 1090..1099 after a 1090-row prefill", new int[] {10, N, D},
                AttentionCase.slice(decoded, 1090, 1100, width), "the decodes",
                AttentionCase.slice(once, 1090, 1100, width), "one 1100-row attentionPrefill of the same positions",
                Tolerances.DECODE_VS_PREFILL);
    }

    @Test
    void attentionLongDecodeWithLargeLogits() {
        AttentionCase c = dcmha(0, 1100, 100.0);
        AttentionPlans.runAndCheck(tck(), backend(), "logits ~1e4 (q, k scaled by 100) over 1090..1099 keys, where decode is split",
                c, 1100, new int[] {1090, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, Tolerances.ATTENTION_LARGE_LOGITS);
        AttentionCase local = dcmha(640, 1300, 100.0);
        AttentionPlans.runAndCheck(tck(), backend(), "logits ~1e4, local W = 640 ring", local, 640, AttentionPlans.ones(1296, 4),
                Tolerances.ATTENTION_LARGE_LOGITS);
    }
}
