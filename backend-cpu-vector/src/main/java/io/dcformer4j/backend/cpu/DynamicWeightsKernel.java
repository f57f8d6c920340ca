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
        for (int ei = from; ei < to; ei++) {
            float av = Vec.getF(a, ao + 4L * ei);
            axpyInto(av, dw1.dtype(), dw1.seg(), dw1.offset, (long) ei * k4, u, uAt, k4);
            axpyInto(av, dd.dtype(), dd.seg(), dd.offset, (long) ei * n4, g, gAt, n4);
        }
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
