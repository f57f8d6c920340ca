package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The fused attention ops against the oracle's unfused §2.1 composition: global and windowed layers, every
 * mode, prefill in one call or in chunks, decode after prefill, the edge cases of the window and of the
 * softmax, NaN, worker counts and invalid arguments.
 */
abstract class AttentionChecks extends Checks {
    private static final int N = 4;
    private static final int D = 8;
    private static final int RANK = 2;

    private AttentionCase dcmha(int window, int positions) {
        return AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, window, false, false, positions, 1.0);
    }

    /** Runs the chunks on the backend under test, compares every chunk with the oracle, returns all outputs. */
    private float[] check(String what, AttentionCase c, int capacity, int[] chunks, boolean decodeSingles, Tolerance tolerance) {
        KvCache cache = tck().own(backend().allocateKvCache(new KvCacheSpec(capacity, c.n, c.d, c.rank, c.mode.usesKeySide())));
        return check(what, c, cache, chunks, decodeSingles, tolerance);
    }

    /** As above, through a given empty cache. */
    private float[] check(String what, AttentionCase c, KvCache cache, int[] chunks, boolean decodeSingles, Tolerance tolerance) {
        float[] out = c.run(tck(), backend(), cache, chunks, decodeSingles);
        int width = c.n * c.d;
        int start = 0;
        for (int rows : chunks) {
            int end = start + rows;
            String call = rows == 1 && decodeSingles ? "attentionDecode" : "attentionPrefill";
            Check.close(what + ": " + call + " of positions " + start + ".." + (end - 1) + " (chunks " + Arrays.toString(chunks)
                            + ", cache capacity " + cache.spec().capacity() + ", " + c.mode + ", N = " + c.n + ", D = " + c.d
                            + ", I = " + c.rank + ", window " + c.window + (c.windowPlusOne ? " with the R24 W+1 prefill flag" : "") + ")",
                    new int[] {rows, c.n, c.d}, AttentionCase.slice(out, start, end, width), c.expected(start, end), tolerance);
            start = end;
        }
        return out;
    }

    private static int[] ones(int first, int count) {
        int[] chunks = new int[count + 1];
        Arrays.fill(chunks, 1);
        chunks[0] = first;
        return chunks;
    }

    @Test
    void attentionPrefillGlobal() {
        for (int t : new int[] {1, 3, 17, 40}) {
            check("global prefill of " + t, dcmha(0, t), t, new int[] {t}, false, Tolerances.ATTENTION);
        }
        check("global prefill into a larger cache", dcmha(0, 9), 64, new int[] {9}, false, Tolerances.ATTENTION);
    }

    @Test
    void attentionPrefillLocalWindowShorterAndLongerThanTwoWindows() {
        int w = 8;
        for (int t : new int[] {5, 15, 17, 40}) {
            check("local W = 8 prefill of " + t, dcmha(w, t), w, new int[] {t}, false, Tolerances.ATTENTION);
        }
        check("local W = 8 prefill of 40 into a ring of 2W", dcmha(w, 40), 2 * w, new int[] {40}, false, Tolerances.ATTENTION);
    }

    @Test
    void attentionLocalWindowOfOneKey() {
        check("local W = 1 (every row sees only itself), prefill then decode", dcmha(1, 12), 1, ones(9, 3), true,
                Tolerances.ATTENTION);
    }

    @Test
    void attentionLocalWindowLargerThanSequence() {
        check("local W = 64 over 20 positions (behaves as global)", dcmha(64, 20), 64, new int[] {20}, false, Tolerances.ATTENTION);
        check("local W = 64, decode after prefill", dcmha(64, 12), 64, ones(8, 4), true, Tolerances.ATTENTION);
    }

    @Test
    void attentionLocalWindowPlusOneQuirkInPrefill() {
        int w = 4;
        AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, w, true, false, 20, 1.0);
        check("local W = 4 with the R24 flag: W+1 keys in multi-token calls, W keys in decode", c, w + 1,
                new int[] {9, 1, 1, 3, 1, 5}, true, Tolerances.ATTENTION);
    }

    @Test
    void attentionDecodeAfterPrefillEqualsOnePrefill() {
        for (int w : new int[] {0, 8}) {
            AttentionCase c = dcmha(w, 40);
            int capacity = w == 0 ? 40 : w;
            float[] incremental = check((w == 0 ? "global" : "local W = 8") + " prefill 24 then 16 decodes", c, capacity, ones(24, 16),
                    true, Tolerances.ATTENTION);
            float[] once = c.run(tck(), backend(), capacity, new int[] {40}, false);
            Check.agree("attention, window " + w, new int[] {40, N, D}, incremental, "a 24-token attentionPrefill and 16 attentionDecode calls",
                    once, "one 40-token attentionPrefill", Tolerances.DECODE_VS_PREFILL);
        }
    }

    @Test
    void attentionChunkedPrefillEqualsOnePrefill() {
        AttentionCase local = dcmha(8, 40);
        float[] chunked = check("local W = 8 chunked prefill (one chunk longer than the ring)", local, 8, new int[] {5, 20, 3, 12},
                false, Tolerances.ATTENTION);
        float[] once = local.run(tck(), backend(), 8, new int[] {40}, false);
        Check.agree("attention, local W = 8", new int[] {40, N, D}, chunked, "prefill in chunks 5, 20, 3, 12", once,
                "one 40-row prefill", Tolerances.DECODE_VS_PREFILL);
        AttentionCase global = dcmha(0, 40);
        check("global chunked prefill", global, 48, new int[] {7, 9, 1, 23}, false, Tolerances.ATTENTION);
    }

    @Test
    void attentionCacheResetStartsANewSequence() {
        for (int w : new int[] {0, 6}) {
            AttentionCase first = dcmha(w, 15);
            AttentionCase second = dcmha(w, 15);
            KvCache cache = tck().own(backend().allocateKvCache(new KvCacheSpec(w == 0 ? 15 : w, N, D, RANK, true)));
            first.run(tck(), backend(), cache, ones(11, 4), true);
            cache.reset();
            if (cache.length() != 0) {
                throw new AssertionError("KvCache.reset() left length() = " + cache.length() + ", expected 0");
            }
            check("a new sequence after KvCache.reset(), window " + w, second, cache, ones(9, 6), true, Tolerances.ATTENTION);
        }
    }

    @Test
    void attentionQueryWiseMode() {
        for (int w : new int[] {0, 5}) {
            AttentionCase c = AttentionCase.random(tck(), AttentionMode.QUERY_WISE, N, D, RANK, w, false, false, 24, 1.0);
            check("query-wise only, window " + w, c, w == 0 ? 24 : w, ones(17, 7), true, Tolerances.ATTENTION);
        }
    }

    @Test
    void attentionPlainMhaMode() {
        for (int w : new int[] {0, 5}) {
            AttentionCase c = AttentionCase.random(tck(), AttentionMode.PLAIN_MHA, N, D, RANK, w, false, false, 24, 1.0);
            check("plain MHA, window " + w, c, w == 0 ? 24 : w, ones(17, 7), true, Tolerances.ATTENTION);
        }
    }

    @Test
    void attentionStaticComposeWeights() {
        AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 6, false, true, 20, 1.0);
        check("DCMHA with static weights (Id + S) in both composes", c, 6, ones(15, 5), true, Tolerances.ATTENTION);
        AttentionCase qw = AttentionCase.random(tck(), AttentionMode.QUERY_WISE, N, D, RANK, 0, false, true, 12, 1.0);
        check("query-wise with static weights", qw, 12, new int[] {12}, false, Tolerances.ATTENTION);
    }

    @Test
    void attentionPreComposeOnly() {
        AttentionCase c = dcmha(0, 17).withZeroSlots(2, 3);
        check("pre-compose only (post-compose slots 2, 3 zero: post is the identity)", c, 17, ones(13, 4), true,
                Tolerances.ATTENTION);
    }

    @Test
    void attentionPostComposeOnly() {
        AttentionCase c = dcmha(0, 17).withZeroSlots(0, 1);
        check("post-compose only (pre-compose slots 0, 1 zero: pre is the identity)", c, 17, ones(13, 4), true,
                Tolerances.ATTENTION);
    }

    @Test
    void attentionAwkwardHeadShapes() {
        int[][] shapes = {{1, 1, 1, 0}, {3, 7, 1, 0}, {5, 17, 3, 4}, {32, 80, 2, 8}};
        for (int[] s : shapes) {
            AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, s[0], s[1], s[2], s[3], false, false, 20, 1.0);
            check("N = " + s[0] + ", D = " + s[1] + ", I = " + s[2], c, s[3] == 0 ? 20 : s[3], ones(17, 3), true, Tolerances.ATTENTION);
        }
    }

    @Test
    void attentionLongBlock512() {
        check("global prefill of 512", dcmha(0, 512), 512, new int[] {512}, false, Tolerances.ATTENTION);
        check("local W = 64 prefill of 512", dcmha(64, 512), 64, new int[] {512}, false, Tolerances.ATTENTION);
    }

    @Test
    void attentionLargeLogitsDoNotOverflowSoftmax() {
        AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 0, false, false, 20, 100.0);
        check("logits ~1e4 (q, k scaled by 100), prefill then decode", c, 20, ones(16, 4), true, Tolerances.ATTENTION_LARGE_LOGITS);
        AttentionCase local = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 4, false, false, 12, 100.0);
        check("logits ~1e4, local W = 4", local, 4, new int[] {12}, false, Tolerances.ATTENTION_LARGE_LOGITS);
    }

    @Test
    void attentionNaNPropagates() {
        AttentionCase c = dcmha(4, 12);
        c.q[5 * N * D + D + 2] = Float.NaN;
        check("NaN in q of position 5 (its row NaN, no other)", c, 4, new int[] {12}, false, Tolerances.ATTENTION);
        AttentionCase keyNaN = dcmha(4, 12);
        keyNaN.k[6 * N * D + 3] = Float.NaN;
        check("NaN in k of position 6 with W = 4 (rows 6..9 see it and are NaN; rows before 6 and after 9 are finite)", keyNaN, 4,
                new int[] {12}, false, Tolerances.ATTENTION);
        AttentionCase valueNaN = dcmha(0, 10);
        valueNaN.v[2 * N * D + D] = Float.NaN;
        float[] out = valueNaN.run(tck(), backend(), 10, ones(6, 4), true);
        int width = N * D;
        double[] expected = new double[10 * width]; // [10, N·D]
        for (int t = 0; t < 10; t++) {
            System.arraycopy(valueNaN.expected(t < 6 ? 0 : t, t < 6 ? 6 : t + 1), t < 6 ? t * width : 0, expected, t * width, width);
        }
        // Rows 0 and 1 never see position 2; a NaN there is tolerated (the reference's P·V product multiplies
        // zero probabilities by every value of the block, so it spreads a NaN value too), a wrong number is not.
        for (int i = 0; i < 2 * width; i++) {
            if (Float.isNaN(out[i])) {
                out[i] = (float) expected[i];
            }
        }
        Check.close("NaN in v of position 2 (head 1 of rows 2..9 must be NaN; rows 0..1 finite and right, or NaN), prefill 6 + 4 decodes",
                new int[] {10, N, D}, out, expected, Tolerances.ATTENTION);
    }

    @Test
    void attentionAgreesAcrossWorkerCounts() {
        AttentionCase c = dcmha(0, 96);
        Backend one = tck().open(1);
        float[] single = c.run(tck(), one, 96, ones(80, 16), true);
        for (int repeat = 0; repeat < 2; repeat++) {
            float[] two = c.run(tck(), backend(), 96, ones(80, 16), true);
            Check.agree("attention, prefill 80 + 16 decodes", new int[] {96, N, D}, two, "2 workers", single, "1 worker",
                    Tolerances.WORKERS);
        }
    }

    @Test
    void attentionRejectsTooSmallCaches() {
        AttentionCase c = dcmha(0, 10);
        assertThatThrownBy(() -> c.run(tck(), backend(), 9, new int[] {10}, false))
                .as("global attention of 10 positions into a cache of 9").isInstanceOf(IllegalArgumentException.class);
        AttentionCase local = dcmha(8, 10);
        assertThatThrownBy(() -> local.run(tck(), backend(), 7, new int[] {10}, false))
                .as("local W = 8 attention with a ring of 7").isInstanceOf(IllegalArgumentException.class);
        AttentionCase quirk = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 8, true, false, 10, 1.0);
        assertThatThrownBy(() -> quirk.run(tck(), backend(), 8, new int[] {10}, false))
                .as("local W = 8 with the W+1 prefill flag and a ring of 8").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void attentionRejectsMismatchedShapes() {
        AttentionSpec spec = AttentionSpec.of(AttentionMode.DCMHA, N, D, RANK, 0);
        KvCache cache = tck().own(backend().allocateKvCache(new KvCacheSpec(16, N, D, RANK, true)));
        Tensor q = tck().zeros("q", 3, N * D);
        Tensor k = tck().zeros("k", 3, N * D);
        Tensor v = tck().zeros("v", 3, N * D);
        Tensor dyn = tck().zeros("dyn", 3, 4, 2 * RANK + 1, N);
        Tensor out = tck().zeros("out", 3, N * D);
        Tensor wideQ = tck().zeros("wideQ", 3, N * D + 1);
        Tensor shortK = tck().zeros("shortK", 2, N * D);
        Tensor wrongDyn = tck().zeros("wrongDyn", 3, 4, 2 * RANK + 1, N + 1);
        Tensor wrongOut = tck().zeros("wrongOut", 3, N * D - 1);
        assertThatThrownBy(() -> backend().attentionPrefill(wideQ, k, v, dyn, cache, spec, out)).as("q [3, 33] for N·D = 32")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().attentionPrefill(q, shortK, v, dyn, cache, spec, out)).as("k with 2 rows for 3 queries")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().attentionPrefill(q, k, v, wrongDyn, cache, spec, out)).as("dyn [3, 4, 5, 5] for N = 4")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().attentionPrefill(q, k, v, null, cache, spec, out)).as("DCMHA without dyn")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().attentionPrefill(q, k, v, dyn, cache, spec, wrongOut)).as("out [3, 31]")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().attentionDecode(q, k, v, dyn, cache, spec, out)).as("attentionDecode with 3 queries")
                .isInstanceOf(IllegalArgumentException.class);
        KvCache otherHeads = tck().own(backend().allocateKvCache(new KvCacheSpec(16, N + 1, D, RANK, true)));
        assertThatThrownBy(() -> backend().attentionPrefill(q, k, v, dyn, otherHeads, spec, out)).as("cache of 5 heads for N = 4")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
