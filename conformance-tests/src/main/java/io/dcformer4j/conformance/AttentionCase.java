package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;

/**
 * One random attention problem over a whole sequence of P positions: q, k, v [P, N·D], dyn [P, 4, 2I+1, N]
 * and optional static compose weights. {@link #run} feeds it to a backend in chunks (a prefill, more
 * prefill chunks, single-token decodes) through one cache; {@link #expected} is the oracle's answer for
 * one chunk.
 */
final class AttentionCase {
    final AttentionMode mode;
    final int n;
    final int d;
    final int rank;
    final int window;
    final boolean windowPlusOne;
    final int positions;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] dyn;
    final float[] staticPre;
    final float[] staticPost;
    /** The dtype the static weights are stored in (their values are already rounded to it). */
    final DType staticDtype;

    private AttentionCase(AttentionMode mode, int n, int d, int rank, int window, boolean windowPlusOne, int positions,
                          float[] q, float[] k, float[] v, float[] dyn, float[] staticPre, float[] staticPost, DType staticDtype) {
        this.mode = mode;
        this.n = n;
        this.d = d;
        this.rank = rank;
        this.window = window;
        this.windowPlusOne = windowPlusOne;
        this.positions = positions;
        this.q = q;
        this.k = k;
        this.v = v;
        this.dyn = dyn;
        this.staticPre = staticPre;
        this.staticPost = staticPost;
        this.staticDtype = staticDtype;
    }

    /**
     * A random problem with realistic magnitudes: q, k, v ~ N(0, 1) (logits O(1) after the 1/sqrt(D) scale,
     * or O(qkScale²)), w1 and w2 O(0.5), gates in (−0.6, 0.6).
     */
    static AttentionCase random(TckContext tck, AttentionMode mode, int n, int d, int rank, int window, boolean windowPlusOne,
                                boolean withStatic, int positions, double qkScale) {
        return random(tck, mode, n, d, rank, window, windowPlusOne, withStatic ? DType.F32 : null, positions, qkScale);
    }

    /** As above, with static compose weights stored as {@code staticDtype} (null: none). */
    static AttentionCase random(TckContext tck, AttentionMode mode, int n, int d, int rank, int window, boolean windowPlusOne,
                                DType staticDtype, int positions, double qkScale) {
        boolean withStatic = staticDtype != null;
        float[] q = tck.normal(positions * n * d, qkScale);
        float[] k = tck.normal(positions * n * d, qkScale);
        float[] v = tck.normal(positions * n * d, 1.0);
        int perSlot = (2 * rank + 1) * n;
        float[] dyn = new float[positions * 4 * perSlot]; // [P, 4, 2I+1, N]
        for (int p = 0; p < positions; p++) {
            for (int c = 0; c < 4; c++) {
                int base = (p * 4 + c) * perSlot;
                float[] w1 = tck.normal(rank * n, 0.7);
                float[] w2 = tck.normal(rank * n, 0.4);
                float[] dg = tck.uniform(n, -0.6, 0.6);
                System.arraycopy(w1, 0, dyn, base, rank * n);
                System.arraycopy(w2, 0, dyn, base + rank * n, rank * n);
                System.arraycopy(dg, 0, dyn, base + 2 * rank * n, n);
            }
        }
        float[] pre = withStatic ? TckContext.rounded(staticDtype, tck.normal(n * n, 0.3)) : null;
        float[] post = withStatic ? TckContext.rounded(staticDtype, tck.normal(n * n, 0.3)) : null;
        return new AttentionCase(mode, n, d, rank, window, windowPlusOne, positions, q, k, v, dyn, pre, post, staticDtype);
    }

    /** The same problem with the given dynamic-weight slots set to zero (their compose terms vanish). */
    AttentionCase withZeroSlots(int... slots) {
        float[] zeroed = dyn.clone();
        int perSlot = (2 * rank + 1) * n;
        for (int p = 0; p < positions; p++) {
            for (int c : slots) {
                Arrays.fill(zeroed, (p * 4 + c) * perSlot, (p * 4 + c + 1) * perSlot, 0f);
            }
        }
        return new AttentionCase(mode, n, d, rank, window, windowPlusOne, positions, q, k, v, zeroed, staticPre, staticPost,
                staticDtype);
    }

    /** The spec on one backend (static weights uploaded there, owned by the test). */
    AttentionSpec spec(TckContext tck, Backend b) {
        Tensor pre = staticPre == null ? null : tck.tensor(b, staticDtype, staticPre, "staticPre", n, n);
        Tensor post = staticPost == null ? null : tck.tensor(b, staticDtype, staticPost, "staticPost", n, n);
        return new AttentionSpec(mode, n, d, rank, window, windowPlusOne, pre, post);
    }

    /** The oracle's outputs [end − start, N·D] for queries start..end−1 in one call. */
    double[] expected(int start, int end) {
        AttentionSpec plain = new AttentionSpec(mode, n, d, rank, window, windowPlusOne, null, null);
        return new OracleAttention(plain, staticPre, staticPost).attend(q, k, v, dyn, start, end, end - start > 1);
    }

    /**
     * The oracle's output [N·D] for the query at {@code position} alone, as a call with several queries
     * ({@code multiTokenCall}, which matters only for the R24 flag) or one would give it: rows of a call are
     * independent, so one row suffices to check a sample of a long call.
     */
    double[] expectedRow(int position, boolean multiTokenCall) {
        AttentionSpec plain = new AttentionSpec(mode, n, d, rank, window, windowPlusOne, null, null);
        return new OracleAttention(plain, staticPre, staticPost).attend(q, k, v, dyn, position, position + 1, multiTokenCall);
    }

    /** A short description of the layer for messages. */
    String describe() {
        return mode + ", N = " + n + ", D = " + d + ", I = " + rank + ", " + (window == 0 ? "global" : "window " + window)
                + (windowPlusOne ? " with the R24 W+1 prefill flag" : "")
                + (staticPre == null ? "" : ", static weights " + staticDtype);
    }

    /**
     * Runs the chunks in order through one new cache of {@code capacity} slots and returns the outputs
     * [P', N·D] of all chunks (P' = sum of chunks, at most P). Single-token chunks go through attentionDecode when
     * {@code decodeSingles} is set.
     */
    float[] run(TckContext tck, Backend b, int capacity, int[] chunks, boolean decodeSingles) {
        KvCache cache = tck.own(b.allocateKvCache(new KvCacheSpec(capacity, n, d, rank, mode.usesKeySide())));
        return run(tck, b, cache, chunks, decodeSingles);
    }

    /** As {@link #run(TckContext, Backend, int, int[], boolean)}, through a given (empty) cache. */
    float[] run(TckContext tck, Backend b, KvCache cache, int[] chunks, boolean decodeSingles) {
        AttentionSpec spec = spec(tck, b);
        int width = n * d;
        int total = 0;
        for (int c : chunks) {
            total += c;
        }
        float[] out = new float[total * width]; // [P', N·D]
        int start = 0;
        for (int rows : chunks) {
            int end = start + rows;
            Tensor qt = tck.tensor(b, DType.F32, slice(q, start, end, width), "q", rows, width);
            Tensor kt = tck.tensor(b, DType.F32, slice(k, start, end, width), "k", rows, width);
            Tensor vt = tck.tensor(b, DType.F32, slice(v, start, end, width), "v", rows, width);
            int perToken = 4 * (2 * rank + 1) * n;
            Tensor dt = mode.usesDynamicWeights()
                    ? tck.tensor(b, DType.F32, slice(dyn, start, end, perToken), "dyn", rows, 4, 2 * rank + 1, n) : null;
            Tensor ot = tck.own(b.allocate(DType.F32, Shape.of(rows, width), "out"));
            if (rows == 1 && decodeSingles) {
                b.attentionDecode(qt, kt, vt, dt, cache, spec, ot);
            } else {
                b.attentionPrefill(qt, kt, vt, dt, cache, spec, ot);
            }
            if (cache.length() != end) {
                throw new AssertionError("after attention over positions " + start + ".." + (end - 1) + " the cache reports length() = "
                        + cache.length() + ", expected " + end);
            }
            System.arraycopy(ot.toFloatArray(), 0, out, start * width, rows * width);
            for (Tensor t : new Tensor[] {qt, kt, vt, dt, ot}) {
                if (t != null) {
                    t.close();
                }
            }
            start = end;
        }
        return out;
    }

    /**
     * Runs positions {@code start .. start+rows−1} as one call (decode when {@code rows} is 1) through a cache
     * already holding positions 0..start−1 of this problem; returns the outputs [rows, N·D].
     */
    float[] runAt(TckContext tck, Backend b, KvCache cache, int start, int rows) {
        if (cache.length() != start) {
            throw new AssertionError("the cache reports length() = " + cache.length() + " before positions " + start + ".., expected " + start);
        }
        float[] all = new float[0];
        AttentionSpec spec = spec(tck, b);
        int width = n * d;
        int end = start + rows;
        Tensor qt = tck.tensor(b, DType.F32, slice(q, start, end, width), "q", rows, width);
        Tensor kt = tck.tensor(b, DType.F32, slice(k, start, end, width), "k", rows, width);
        Tensor vt = tck.tensor(b, DType.F32, slice(v, start, end, width), "v", rows, width);
        int perToken = 4 * (2 * rank + 1) * n;
        Tensor dt = mode.usesDynamicWeights()
                ? tck.tensor(b, DType.F32, slice(dyn, start, end, perToken), "dyn", rows, 4, 2 * rank + 1, n) : null;
        Tensor ot = tck.own(b.allocate(DType.F32, Shape.of(rows, width), "out"));
        if (rows == 1) {
            b.attentionDecode(qt, kt, vt, dt, cache, spec, ot);
        } else {
            b.attentionPrefill(qt, kt, vt, dt, cache, spec, ot);
        }
        all = ot.toFloatArray();
        for (Tensor t : new Tensor[] {qt, kt, vt, dt, ot, spec.staticPre(), spec.staticPost()}) {
            if (t != null) {
                t.close();
            }
        }
        return all;
    }

    /** Rows start..end−1 of a row-major array with rows of {@code width}. */
    static float[] slice(float[] a, int start, int end, int width) {
        return Arrays.copyOfRange(a, start * width, end * width);
    }
}
