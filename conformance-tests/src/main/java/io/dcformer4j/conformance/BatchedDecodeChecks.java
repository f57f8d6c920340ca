package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The batched decode ops ({@code ropeRows}, {@code attentionDecodeBatch}): a batch of sequences, each with its
 * own cache at its own position, stepped together, must give every sequence the same floats as its own
 * single-sequence op (the engine promises a sequence the same output batched or alone), and the oracle's
 * answer within the attention tolerance. Sequences of mixed lengths on global and local layers (rings that
 * have wrapped past the window, and a context long enough for a backend to split the keys), in every mode;
 * bad batches are refused before any cache moves.
 */
abstract class BatchedDecodeChecks extends Checks {
    private static final int N = 4;
    private static final int D = 8;
    private static final int RANK = 2;
    private static final int STEPS = 3;

    /** Prefill lengths of the batch's sequences: a single token, short, past a ring of 6, and long. */
    private static final int[] LENGTHS = {1, 4, 9, 30, 530};

    @Test
    void attentionDecodeBatchEqualsEachSequenceDecodeGlobal() {
        for (AttentionMode mode : AttentionMode.values()) {
            batchAgainstSingles(mode, 0, false, LENGTHS);
        }
        batchAgainstSingles(AttentionMode.DCMHA, 0, true, new int[] {3, 17, 5});
    }

    @Test
    void attentionDecodeBatchEqualsEachSequenceDecodeLocal() {
        for (AttentionMode mode : AttentionMode.values()) {
            batchAgainstSingles(mode, 6, false, LENGTHS);
        }
        batchAgainstSingles(AttentionMode.DCMHA, 6, true, new int[] {2, 13, 6});
    }

    @Test
    void attentionDecodeBatchOfOneAndOfEqualPositions() {
        batchAgainstSingles(AttentionMode.DCMHA, 0, false, new int[] {7});
        batchAgainstSingles(AttentionMode.DCMHA, 5, false, new int[] {11, 11, 11, 11});
    }

    /**
     * Sequence b is prefilled with {@code lengths[b]} tokens into two caches; then {@link #STEPS} steps run as
     * one attentionDecodeBatch over the first caches and as one attentionDecode per sequence over the second.
     */
    private void batchAgainstSingles(AttentionMode mode, int window, boolean withStatic, int[] lengths) {
        Backend b = backend();
        int width = N * D;
        int batch = lengths.length;
        List<AttentionCase> cases = new ArrayList<>();
        for (int length : lengths) {
            AttentionCase c = AttentionCase.random(tck(), mode, N, D, RANK, window, false, withStatic, length + STEPS, 1.0);
            if (withStatic && !cases.isEmpty()) {
                // one layer: every sequence composes with the same static weights
                System.arraycopy(cases.get(0).staticPre, 0, c.staticPre, 0, N * N);
                System.arraycopy(cases.get(0).staticPost, 0, c.staticPost, 0, N * N);
            }
            cases.add(c);
        }
        AttentionSpec spec = cases.get(0).spec(tck(), b);
        List<KvCache> batched = new ArrayList<>();
        List<KvCache> single = new ArrayList<>();
        for (int s = 0; s < batch; s++) {
            AttentionCase c = cases.get(s);
            int capacity = window == 0 ? c.positions : window;
            for (List<KvCache> caches : List.of(batched, single)) {
                KvCache cache = tck().own(b.allocateKvCache(new KvCacheSpec(capacity, N, D, RANK, mode.usesKeySide())));
                run(b, c, spec, cache, 0, lengths[s], false);
                caches.add(cache);
            }
        }
        String what = mode + (withStatic ? " with static weights" : "") + (window == 0 ? ", global" : ", local W = " + window)
                + ", prefill lengths " + Arrays.toString(lengths);
        int perToken = 4 * (2 * RANK + 1) * N;
        for (int step = 0; step < STEPS; step++) {
            float[] q = new float[batch * width];      // [B, N·D]
            float[] k = new float[batch * width];      // [B, N·D]
            float[] v = new float[batch * width];      // [B, N·D]
            float[] dyn = new float[batch * perToken]; // [B, 4, 2I+1, N]
            for (int s = 0; s < batch; s++) {
                AttentionCase c = cases.get(s);
                int p = lengths[s] + step;
                System.arraycopy(c.q, p * width, q, s * width, width);
                System.arraycopy(c.k, p * width, k, s * width, width);
                System.arraycopy(c.v, p * width, v, s * width, width);
                System.arraycopy(c.dyn, p * perToken, dyn, s * perToken, perToken);
            }
            Tensor qt = tck().tensor(b, DType.F32, q, "q", batch, width);
            Tensor kt = tck().tensor(b, DType.F32, k, "k", batch, width);
            Tensor vt = tck().tensor(b, DType.F32, v, "v", batch, width);
            Tensor dt = mode.usesDynamicWeights() ? tck().tensor(b, DType.F32, dyn, "dyn", batch, 4, 2 * RANK + 1, N) : null;
            Tensor ot = tck().own(b.allocate(DType.F32, Shape.of(batch, width), "out"));
            b.attentionDecodeBatch(qt, kt, vt, dt, batched, spec, ot);
            float[] out = ot.toFloatArray();
            for (int s = 0; s < batch; s++) {
                AttentionCase c = cases.get(s);
                int p = lengths[s] + step;
                String row = what + ": step " + step + ", row " + s + " (position " + p + ")";
                assertThat(batched.get(s).length()).as(row + ": cache length after the batched step").isEqualTo(p + 1);
                float[] alone = run(b, c, spec, single.get(s), p, p + 1, true);
                float[] mine = Arrays.copyOfRange(out, s * width, (s + 1) * width);
                requireSameFloats(row + ": attentionDecodeBatch vs attentionDecode of the row alone", mine, alone);
                Check.close(row + ": attentionDecodeBatch vs the oracle", new int[] {1, N, D}, mine, c.expected(p, p + 1),
                        Tolerances.ATTENTION);
            }
        }
    }

    /** Positions [start, end) of a case through one prefill (or a decode when asked and single) into the cache. */
    private float[] run(Backend b, AttentionCase c, AttentionSpec spec, KvCache cache, int start, int end, boolean decode) {
        int width = N * D;
        int rows = end - start;
        int perToken = 4 * (2 * RANK + 1) * N;
        Tensor qt = tck().tensor(b, DType.F32, AttentionCase.slice(c.q, start, end, width), "q", rows, width);
        Tensor kt = tck().tensor(b, DType.F32, AttentionCase.slice(c.k, start, end, width), "k", rows, width);
        Tensor vt = tck().tensor(b, DType.F32, AttentionCase.slice(c.v, start, end, width), "v", rows, width);
        Tensor dt = c.mode.usesDynamicWeights()
                ? tck().tensor(b, DType.F32, AttentionCase.slice(c.dyn, start, end, perToken), "dyn", rows, 4, 2 * RANK + 1, N) : null;
        Tensor ot = tck().own(b.allocate(DType.F32, Shape.of(rows, width), "out"));
        if (decode) {
            b.attentionDecode(qt, kt, vt, dt, cache, spec, ot);
        } else {
            b.attentionPrefill(qt, kt, vt, dt, cache, spec, ot);
        }
        return ot.toFloatArray();
    }

    private static void requireSameFloats(String what, float[] actual, float[] expected) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(actual[i]) != Float.floatToIntBits(expected[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", the single-sequence op gave "
                        + expected[i] + " (a batched step must give each row the same floats as its own op)");
            }
        }
    }

    @Test
    void ropeRowsEqualsRopeOfEachRow() {
        Backend b = backend();
        int[][] shapes = {{3, 8, 8}, {2, 16, 12}, {4, 80, 80}}; // heads, D, Dr
        int[] positions = {0, 4095, 17, 1, 517, 3};
        for (int[] s : shapes) {
            int cols = s[0] * s[1];
            RopeSpec spec = new RopeSpec(s[1], s[2], 10000);
            int rows = positions.length;
            float[] x = tck().normal(rows * cols, 1.0);
            Tensor out = tck().zeros("out", rows, cols);
            b.ropeRows(tck().f32(x, "x", rows, cols), positions, spec, out);
            float[] batch = out.toFloatArray();
            for (int r = 0; r < rows; r++) {
                float[] row = Arrays.copyOfRange(x, r * cols, (r + 1) * cols);
                Tensor one = tck().zeros("one", 1, cols);
                b.rope(tck().f32(row, "row", 1, cols), positions[r], spec, one);
                String what = "ropeRows row " + r + " at position " + positions[r] + " (H = " + s[0] + ", D = " + s[1] + ", Dr = " + s[2] + ")";
                float[] mine = Arrays.copyOfRange(batch, r * cols, (r + 1) * cols);
                requireSameFloats(what + " vs rope of the row alone", mine, one.toFloatArray());
                double[] scale = new double[cols]; // [H·D]: |x_i| + |x_partner|, as the rope checks scale
                int half = s[2] / 2;
                for (int i = 0; i < cols; i++) {
                    int j = i % s[1];
                    int partner = j < half ? i + half : j < s[2] ? i - half : i;
                    scale[i] = Math.abs(row[i]) + Math.abs(row[partner]);
                }
                Check.close(what + " vs the oracle", new int[] {1, cols}, mine, Oracle.rope(row, 1, positions[r], spec),
                        scale, Tolerances.ROPE);
            }
        }
    }

    @Test
    void attentionDecodeBatchRejectsBadBatches() {
        Backend b = backend();
        int width = N * D;
        AttentionSpec spec = AttentionSpec.of(AttentionMode.DCMHA, N, D, RANK, 0);
        KvCache c0 = tck().own(b.allocateKvCache(new KvCacheSpec(16, N, D, RANK, true)));
        KvCache c1 = tck().own(b.allocateKvCache(new KvCacheSpec(16, N, D, RANK, true)));
        Tensor q = tck().zeros("q", 2, width);
        Tensor k = tck().zeros("k", 2, width);
        Tensor v = tck().zeros("v", 2, width);
        Tensor dyn = tck().zeros("dyn", 2, 4, 2 * RANK + 1, N);
        Tensor out = tck().zeros("out", 2, width);
        Tensor shortK = tck().zeros("shortK", 1, width);
        Tensor wideQ = tck().zeros("wideQ", 2, width + 1);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, k, v, dyn, List.of(c0, c0), spec, out))
                .as("one cache for two rows").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, k, v, dyn, List.of(c0), spec, out))
                .as("one cache for a batch of two").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, k, v, dyn, List.of(c0, c1, tck().own(
                        b.allocateKvCache(new KvCacheSpec(16, N, D, RANK, true)))), spec, out))
                .as("three caches for a batch of two").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, shortK, v, dyn, List.of(c0, c1), spec, out))
                .as("k with one row for a batch of two").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.attentionDecodeBatch(wideQ, k, v, dyn, List.of(c0, c1), spec, out))
                .as("q [2, 33] for N·D = 32").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, k, v, null, List.of(c0, c1), spec, out))
                .as("DCMHA batch without dyn").isInstanceOf(IllegalArgumentException.class);
        KvCache tiny = tck().own(b.allocateKvCache(new KvCacheSpec(1, N, D, RANK, true)));
        run(b, AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 0, false, false, 1, 1.0), spec, tiny, 0, 1, false);
        assertThatThrownBy(() -> b.attentionDecodeBatch(q, k, v, dyn, List.of(c0, tiny), spec, out))
                .as("row 1's global cache is full").isInstanceOf(IllegalArgumentException.class);
        assertThat(c0.length()).as("a refused batch leaves every cache where it was").isZero();
        assertThat(c1.length()).as("a refused batch leaves every cache where it was").isZero();
        assertThat(tiny.length()).as("a refused batch leaves every cache where it was").isEqualTo(1);
    }

    @Test
    void ropeRowsRejectsBadPositions() {
        Backend b = backend();
        RopeSpec spec = new RopeSpec(D, D, 10000);
        Tensor x = tck().zeros("x", 3, N * D);
        Tensor out = tck().zeros("out", 3, N * D);
        assertThatThrownBy(() -> b.ropeRows(x, new int[] {0, 1}, spec, out)).as("two positions for three rows")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.ropeRows(x, new int[] {0, -1, 2}, spec, out)).as("a negative position")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.ropeRows(x, null, spec, out)).as("no positions")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> b.ropeRows(x, new int[] {0, 1, 2}, spec, tck().zeros("short", 2, N * D)))
                .as("out with two rows for three").isInstanceOf(IllegalArgumentException.class);
    }
}
