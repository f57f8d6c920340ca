package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.IS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;
import static io.dcformer4j.backend.cpu.Vec.SS;

/**
 * The DCMHA dynamic weights of one token (spec §2.2): u = GELU(a·dw1), r = u·qkw per slot, w1 rows
 * RMS-normalised over the head axis (eps 1e-6), w2 rows as is, dg = tanh(a·dd). The projections dw1
 * [E, 4K] and dd [E, 4N] are input-major: in decode each is applied as a sum of scaled weight rows, in
 * {@value #INPUT_PARTS} parts of the inputs added in order; a prefill runs them as packed GEMMs ({@link LinearKernel#runInputMajor}) and
 * only {@link #finish} is per token.
 */
final class DynamicWeightsKernel {
    private static final float RMS_EPS = 1e-6f;

    private DynamicWeightsKernel() {
    }

    /** Per-thread buffers of one token's intermediate values. */
    static final class Buffers {
        float[] u = new float[0];   // [T, parts, 4K] (decode) or [4K]
        float[] r = new float[0];   // [4, 2I, N]
        float[] g = new float[0];   // [T, parts, 4N] (decode) or [4N]

        void ensure(int k4, int r4, int n4) {
            if (u.length < k4) {
                u = new float[k4];
            }
            if (r.length < r4) {
                r = new float[r4];
            }
            if (g.length < n4) {
                g = new float[n4];
            }
        }
    }

    /** The parts a decode row's E inputs are cut into: one per worker of a four-core machine, any count on fewer. */
    static final int INPUT_PARTS = 4;

    /**
     * The two input-major projections of one token over inputs [from, to): u[uAt + c] = Σ_e a[e]·dw1[e, c] for
     * c &lt; 4K and g[gAt + c] = Σ_e a[e]·dd[e, c] for c &lt; 4N. Both ranges must be zero on entry.
     */
    static void project(MemorySegment a, long ao, int from, int to, CpuTensor dw1, CpuTensor dd, int k4, int n4,
                        float[] u, int uAt, float[] g, int gAt) {
        accumulate(a, ao, from, to, dw1, k4, u, uAt);
        accumulate(a, ao, from, to, dd, n4, g, gAt);
    }

    /**
     * acc[at + c] += Σ_e a[e]·w[e, c] over inputs [from, to) for c &lt; cols, each column's FMAs in input order
     * (the order of {@link #axpyInto} row after row, so the floats are the same). F32 and BF16 weights keep
     * {@value #BLOCK} vectors of columns in registers while the inputs go by: an accumulator stored to memory for
     * every input (a row at a time) made the projection several times slower than its weight stream.
     */
    static void accumulate(MemorySegment a, long ao, int from, int to, CpuTensor w, int cols, float[] acc, int at) {
        DType dt = w.dtype();
        if (dt != DType.F32 && dt != DType.BF16) {
            for (int e = from; e < to; e++) {
                axpyInto(Vec.getF(a, ao + 4L * e), dt, w.seg(), w.offset, (long) e * cols, acc, at, cols);
            }
            return;
        }
        MemorySegment ws = w.seg();
        int c = 0;
        for (; c <= cols - BLOCK * L; c += BLOCK * L) {
            if (dt == DType.BF16) {
                bf16Block(a, ao, from, to, ws, w.offset, cols, c, acc, at);
            } else {
                f32Block(a, ao, from, to, ws, w.offset, cols, c, acc, at);
            }
        }
        if (c < cols) {
            // the last columns (fewer than a block) row by row, as before
            for (int e = from; e < to; e++) {
                axpyInto(Vec.getF(a, ao + 4L * e), dt, ws, w.offset, (long) e * cols + c, acc, at + c, cols - c);
            }
        }
    }

    /** Vectors of columns a block of {@link #accumulate} keeps in registers. */
    static final int BLOCK = 4;

    /** Columns [c, c + 4L) of {@link #accumulate} for BF16 weights [E, cols] at byte {@code wo}. */
    private static void bf16Block(MemorySegment a, long ao, int from, int to, MemorySegment w, long wo, int cols, int c,
                                  float[] acc, int at) {
        FloatVector s0 = FloatVector.fromArray(FS, acc, at + c);
        FloatVector s1 = FloatVector.fromArray(FS, acc, at + c + L);
        FloatVector s2 = FloatVector.fromArray(FS, acc, at + c + 2 * L);
        FloatVector s3 = FloatVector.fromArray(FS, acc, at + c + 3 * L);
        long rowBytes = 2L * cols;
        long p = wo + 2L * c + from * rowBytes;
        for (int e = from; e < to; e++, p += rowBytes) {
            FloatVector av = FloatVector.broadcast(FS, Vec.getF(a, ao + 4L * e));
            // BF16 → F32: the 16 bits become the high half of the float (exact)
            s0 = ((IntVector) ShortVector.fromMemorySegment(SS, w, p, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(av, s0);
            s1 = ((IntVector) ShortVector.fromMemorySegment(SS, w, p + 2L * L, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(av, s1);
            s2 = ((IntVector) ShortVector.fromMemorySegment(SS, w, p + 4L * L, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(av, s2);
            s3 = ((IntVector) ShortVector.fromMemorySegment(SS, w, p + 6L * L, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(av, s3);
        }
        s0.intoArray(acc, at + c);
        s1.intoArray(acc, at + c + L);
        s2.intoArray(acc, at + c + 2 * L);
        s3.intoArray(acc, at + c + 3 * L);
    }

    /** {@link #bf16Block} for F32 weights. */
    private static void f32Block(MemorySegment a, long ao, int from, int to, MemorySegment w, long wo, int cols, int c,
                                 float[] acc, int at) {
        FloatVector s0 = FloatVector.fromArray(FS, acc, at + c);
        FloatVector s1 = FloatVector.fromArray(FS, acc, at + c + L);
        FloatVector s2 = FloatVector.fromArray(FS, acc, at + c + 2 * L);
        FloatVector s3 = FloatVector.fromArray(FS, acc, at + c + 3 * L);
        long rowBytes = 4L * cols;
        long p = wo + 4L * c + from * rowBytes;
        for (int e = from; e < to; e++, p += rowBytes) {
            FloatVector av = FloatVector.broadcast(FS, Vec.getF(a, ao + 4L * e));
            s0 = FloatVector.fromMemorySegment(FS, w, p, LE).fma(av, s0);
            s1 = FloatVector.fromMemorySegment(FS, w, p + 4L * L, LE).fma(av, s1);
            s2 = FloatVector.fromMemorySegment(FS, w, p + 8L * L, LE).fma(av, s2);
            s3 = FloatVector.fromMemorySegment(FS, w, p + 12L * L, LE).fma(av, s3);
        }
        s0.intoArray(acc, at + c);
        s1.intoArray(acc, at + c + L);
        s2.intoArray(acc, at + c + 2 * L);
        s3.intoArray(acc, at + c + 3 * L);
    }

    /** Adds parts 1 .. parts−1 of x[at ..] ([parts][len]) into part 0, in part order. */
    static void addParts(float[] x, int at, int len, int parts) {
        for (int p = 1; p < parts; p++) {
            int from = at + p * len;
            int i = 0;
            for (; i <= len - L; i += L) {
                FloatVector.fromArray(FS, x, at + i).add(FloatVector.fromArray(FS, x, from + i)).intoArray(x, at + i);
            }
            for (; i < len; i++) {
                x[at + i] += x[from + i];
            }
        }
    }

    /**
     * From one token's projections u [4K] (at uAt) and g [4N] (at gAt): GELU, r = u·qkw per slot, w1 rows
     * RMS-normalised over heads, w2 rows, dg = tanh(g); writes [4, 2I+1, N] at {@code oo}. Overwrites u.
     */
    static void finish(float[] u, int uAt, float[] g, int gAt, CpuTensor qkw, int n, int rank, int k,
                       MemorySegment out, long oo, float[] r) {
        int twoI = 2 * rank;
        java.util.Arrays.fill(r, 0, 4 * twoI * n, 0f);
        Erf.geluInPlace(u, uAt, 4 * k);
        int rn = twoI * n;
        for (int c = 0; c < 4; c++) {
            for (int kk = 0; kk < k; kk++) {
                axpyInto(u[uAt + c * k + kk], qkw.dtype(), qkw.seg(), qkw.offset, (long) (c * k + kk) * rn, r, c * rn, rn);
            }
        }
        int rows = twoI + 1;
        for (int c = 0; c < 4; c++) {
            long slot = oo + 4L * c * rows * n;
            for (int i = 0; i < rank; i++) {
                int base = c * rn + i * n;
                double ss = 0;
                for (int m = 0; m < n; m++) {
                    ss += (double) r[base + m] * r[base + m];
                }
                float inv = (float) (1.0 / Math.sqrt(ss / n + RMS_EPS));
                for (int m = 0; m < n; m++) {
                    Vec.setF(out, slot + 4L * (i * n + m), r[base + m] * inv);
                }
            }
            for (int i = rank; i < twoI; i++) {
                int base = c * rn + i * n;
                for (int m = 0; m < n; m++) {
                    Vec.setF(out, slot + 4L * (i * n + m), r[base + m]);
                }
            }
            for (int m = 0; m < n; m++) {
                Vec.setF(out, slot + 4L * (twoI * n + m), (float) Math.tanh(g[gAt + c * n + m]));
            }
        }
    }

    /**
     * acc[at..at+len) += s · w[row..row+len), the weight loop written once per dtype. (Split into one method per
     * dtype, it measured no faster in decode.)
     */
    static void axpyInto(float s, DType dt, MemorySegment w, long wo, long row, float[] acc, int at, int len) {
        FloatVector sv = FloatVector.broadcast(FS, s);
        int i = 0;
        switch (dt) {
            case F32 -> {
                long base = wo + 4L * row;
                for (; i <= len - L; i += L) {
                    FloatVector wv = FloatVector.fromMemorySegment(FS, w, base + 4L * i, LE);
                    wv.fma(sv, FloatVector.fromArray(FS, acc, at + i)).intoArray(acc, at + i);
                }
            }
            case BF16 -> {
                long base = wo + 2L * row;
                for (; i <= len - L; i += L) {
                    FloatVector wv = ((IntVector) ShortVector.fromMemorySegment(SS, w, base + 2L * i, LE)
                            .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                    wv.fma(sv, FloatVector.fromArray(FS, acc, at + i)).intoArray(acc, at + i);
                }
            }
            case F16 -> {
                long base = wo + 2L * row;
                for (; i <= len - L; i += L) {
                    IntVector h = (IntVector) ShortVector.fromMemorySegment(SS, w, base + 2L * i, LE)
                            .convertShape(VectorOperators.S2I, IS, 0);
                    IntVector m = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
                    IntVector bits = m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()
                            .blend(m.or(0x7f800000), h.and(0x7c00).compare(VectorOperators.EQ, 0x7c00));
                    FloatVector wv = bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
                    wv.fma(sv, FloatVector.fromArray(FS, acc, at + i)).intoArray(acc, at + i);
                }
            }
            case I32, Q8_0 -> throw new IllegalArgumentException(dt + " weights");
        }
        for (; i < len; i++) {
            acc[at + i] += s * Vec.get(dt, w, wo, row + i);
        }
    }
}
