package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;

/**
 * The vector inner loops of the fused attention that do not compose: the scaled logits q·k and the
 * probability-weighted sum of values, each for a block of {@value AttentionKernel#R} query rows sharing every
 * key or value load, and for a single decode row. Each works on one {@link KeyPiece} of keys.
 */
final class AttentionLoops {
    private AttentionLoops() {
    }

    /**
     * Scaled logits of the R rows for one piece of keys: lg[r, h, first + j] = q[r, h]·k[j, h] · scale, with
     * keys transposed [N·D][stride] starting at column {@code col}. Two key vectors × R rows per step.
     */
    static void logits(float[] q, MemorySegment kt, int stride, int col, int first, int count, int n, int d, int sp,
                               float scale, float[] lg) {
        int nd = n * d;
        for (int h = 0; h < n; h++) {
            int j = 0;
            for (; j + 2 * L <= count; j += 2 * L) {
                FloatVector a00 = FloatVector.zero(FS);
                FloatVector a01 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                FloatVector a20 = a00;
                FloatVector a21 = a00;
                FloatVector a30 = a00;
                FloatVector a31 = a00;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector k0 = FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE);
                    FloatVector k1 = FloatVector.fromMemorySegment(FS, kt, 4L * (kb + L), LE);
                    FloatVector x0 = FloatVector.broadcast(FS, q[qb + e]);
                    FloatVector x1 = FloatVector.broadcast(FS, q[nd + qb + e]);
                    FloatVector x2 = FloatVector.broadcast(FS, q[2 * nd + qb + e]);
                    FloatVector x3 = FloatVector.broadcast(FS, q[3 * nd + qb + e]);
                    a00 = x0.fma(k0, a00);
                    a01 = x0.fma(k1, a01);
                    a10 = x1.fma(k0, a10);
                    a11 = x1.fma(k1, a11);
                    a20 = x2.fma(k0, a20);
                    a21 = x2.fma(k1, a21);
                    a30 = x3.fma(k0, a30);
                    a31 = x3.fma(k1, a31);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a00.mul(scale).intoArray(lg, o);
                a01.mul(scale).intoArray(lg, o + L);
                a10.mul(scale).intoArray(lg, o + n * sp);
                a11.mul(scale).intoArray(lg, o + n * sp + L);
                a20.mul(scale).intoArray(lg, o + 2 * n * sp);
                a21.mul(scale).intoArray(lg, o + 2 * n * sp + L);
                a30.mul(scale).intoArray(lg, o + 3 * n * sp);
                a31.mul(scale).intoArray(lg, o + 3 * n * sp + L);
            }
            for (; j < count; j += L) {
                VectorMask<Float> m = FS.indexInRange(j, count);
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector k0 = FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE, m);
                    a0 = FloatVector.broadcast(FS, q[qb + e]).fma(k0, a0);
                    a1 = FloatVector.broadcast(FS, q[nd + qb + e]).fma(k0, a1);
                    a2 = FloatVector.broadcast(FS, q[2 * nd + qb + e]).fma(k0, a2);
                    a3 = FloatVector.broadcast(FS, q[3 * nd + qb + e]).fma(k0, a3);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a0.mul(scale).intoArray(lg, o, m);
                a1.mul(scale).intoArray(lg, o + n * sp, m);
                a2.mul(scale).intoArray(lg, o + 2 * n * sp, m);
                a3.mul(scale).intoArray(lg, o + 3 * n * sp, m);
            }
        }
    }

    /** {@link #logits} for a single query row (decode). */
    static void logits1(float[] q, MemorySegment kt, int stride, int col, int first, int count, int n, int d, int sp,
                                float scale, float[] lg) {
        for (int h = 0; h < n; h++) {
            int j = 0;
            for (; j + 4 * L <= count; j += 4 * L) {
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector x = FloatVector.broadcast(FS, q[qb + e]);
                    a0 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE), a0);
                    a1 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + L), LE), a1);
                    a2 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + 2 * L), LE), a2);
                    a3 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + 3 * L), LE), a3);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a0.mul(scale).intoArray(lg, o);
                a1.mul(scale).intoArray(lg, o + L);
                a2.mul(scale).intoArray(lg, o + 2 * L);
                a3.mul(scale).intoArray(lg, o + 3 * L);
            }
            // a page's worth of keys (2L for 512-bit vectors): four chains, components split by parity
            for (; j + 2 * L <= count; j += 2 * L) {
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                int e = 0;
                for (; e + 1 < d; e += 2) {
                    FloatVector x = FloatVector.broadcast(FS, q[qb + e]);
                    FloatVector y = FloatVector.broadcast(FS, q[qb + e + 1]);
                    a0 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE), a0);
                    a1 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + L), LE), a1);
                    b0 = y.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + stride), LE), b0);
                    b1 = y.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + stride + L), LE), b1);
                    kb += 2 * stride;
                }
                if (e < d) {
                    FloatVector x = FloatVector.broadcast(FS, q[qb + e]);
                    a0 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE), a0);
                    a1 = x.fma(FloatVector.fromMemorySegment(FS, kt, 4L * (kb + L), LE), a1);
                }
                int o = h * sp + first + j;
                a0.add(b0).mul(scale).intoArray(lg, o);
                a1.add(b1).mul(scale).intoArray(lg, o + L);
            }
            for (; j < count; j += L) {
                VectorMask<Float> m = FS.indexInRange(j, count);
                FloatVector a0 = FloatVector.zero(FS);
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    a0 = FloatVector.broadcast(FS, q[qb + e]).fma(FloatVector.fromMemorySegment(FS, kt, 4L * kb, LE, m), a0);
                    kb += stride;
                }
                a0.mul(scale).intoArray(lg, h * sp + first + j, m);
            }
        }
    }

    /**
     * {@link #values} for a single query row (decode), with values head-major [N][stride][D]: each head's values
     * of a piece are one contiguous run that is read front to back. For every head the D outputs stay in registers
     * (up to four vectors at a time) while the keys go by two at a time into two accumulator sets, even keys into
     * the first (which starts from {@code out}) and odd keys into the second; the sets are added at the end. That
     * order is per lane, so it does not depend on the vector width.
     */
    static void values1(float[] lg, MemorySegment v, int stride, int col, int first, int count, int n, int d, int sp,
                        float[] out) {
        long rowBytes = 4L * d;
        for (int m = 0; m < n; m++) {
            int pb = m * sp + first;
            long hb = rowBytes * ((long) m * stride + col);
            int e = 0;
            for (; e + 4 * L <= d; e += 4 * L) {
                fourVectors(lg, pb, count, v, hb + 4L * e, rowBytes, out, m * d + e);
            }
            for (; e < d; e += L) {
                oneVector(lg, pb, count, v, hb + 4L * e, rowBytes, out, m * d + e, FS.indexInRange(e, d));
            }
        }
    }

    // values1's pieces are separate methods: as one method the client compiler ran out of registers on it and
    // left it to the interpreter until C2 came, seconds later.

    /** out[ob .. ob + 4L) += Σ_j lg[pb + j] · v[at + j·rowBytes ..], keys in two interleaved chains. */
    private static void fourVectors(float[] lg, int pb, int count, MemorySegment v, long at, long rowBytes, float[] out,
                                    int ob) {
        long lb = 4L * L;
        FloatVector a0 = FloatVector.fromArray(FS, out, ob);
        FloatVector a1 = FloatVector.fromArray(FS, out, ob + L);
        FloatVector a2 = FloatVector.fromArray(FS, out, ob + 2 * L);
        FloatVector a3 = FloatVector.fromArray(FS, out, ob + 3 * L);
        FloatVector b0 = FloatVector.zero(FS);
        FloatVector b1 = b0;
        FloatVector b2 = b0;
        FloatVector b3 = b0;
        int j = 0;
        for (; j + 2 <= count; j += 2) {
            FloatVector p = FloatVector.broadcast(FS, lg[pb + j]);
            FloatVector r = FloatVector.broadcast(FS, lg[pb + j + 1]);
            a0 = p.fma(FloatVector.fromMemorySegment(FS, v, at, LE), a0);
            a1 = p.fma(FloatVector.fromMemorySegment(FS, v, at + lb, LE), a1);
            a2 = p.fma(FloatVector.fromMemorySegment(FS, v, at + 2 * lb, LE), a2);
            a3 = p.fma(FloatVector.fromMemorySegment(FS, v, at + 3 * lb, LE), a3);
            b0 = r.fma(FloatVector.fromMemorySegment(FS, v, at + rowBytes, LE), b0);
            b1 = r.fma(FloatVector.fromMemorySegment(FS, v, at + rowBytes + lb, LE), b1);
            b2 = r.fma(FloatVector.fromMemorySegment(FS, v, at + rowBytes + 2 * lb, LE), b2);
            b3 = r.fma(FloatVector.fromMemorySegment(FS, v, at + rowBytes + 3 * lb, LE), b3);
            at += 2 * rowBytes;
        }
        if (j < count) {
            FloatVector p = FloatVector.broadcast(FS, lg[pb + j]);
            a0 = p.fma(FloatVector.fromMemorySegment(FS, v, at, LE), a0);
            a1 = p.fma(FloatVector.fromMemorySegment(FS, v, at + lb, LE), a1);
            a2 = p.fma(FloatVector.fromMemorySegment(FS, v, at + 2 * lb, LE), a2);
            a3 = p.fma(FloatVector.fromMemorySegment(FS, v, at + 3 * lb, LE), a3);
        }
        a0.add(b0).intoArray(out, ob);
        a1.add(b1).intoArray(out, ob + L);
        a2.add(b2).intoArray(out, ob + 2 * L);
        a3.add(b3).intoArray(out, ob + 3 * L);
    }

    /** {@link #fourVectors} for one vector of outputs, the lanes past the head's end masked off. */
    private static void oneVector(float[] lg, int pb, int count, MemorySegment v, long at, long rowBytes, float[] out,
                                  int ob, VectorMask<Float> mask) {
        FloatVector a = FloatVector.fromArray(FS, out, ob, mask);
        FloatVector b = FloatVector.zero(FS);
        int j = 0;
        for (; j + 2 <= count; j += 2) {
            a = FloatVector.broadcast(FS, lg[pb + j]).fma(FloatVector.fromMemorySegment(FS, v, at, LE, mask), a);
            b = FloatVector.broadcast(FS, lg[pb + j + 1]).fma(FloatVector.fromMemorySegment(FS, v, at + rowBytes, LE, mask), b);
            at += 2 * rowBytes;
        }
        if (j < count) {
            a = FloatVector.broadcast(FS, lg[pb + j]).fma(FloatVector.fromMemorySegment(FS, v, at, LE, mask), a);
        }
        a.add(b).intoArray(out, ob, mask);
    }

    /**
     * out[r, m, :] += Σ_j P[r, m, first + j] · v[m, col + j, :] for one piece (v head-major [N][stride][D]);
     * the R rows share every value load.
     */
    static void values(float[] lg, MemorySegment v, int stride, int col, int first, int count, int n, int d, int sp,
                       float[] out) {
        int nd = n * d;
        for (int m = 0; m < n; m++) {
            int e = 0;
            for (; e + L <= d; e += L) {
                int ob = m * d + e;
                FloatVector a0 = FloatVector.fromArray(FS, out, ob);
                FloatVector a1 = FloatVector.fromArray(FS, out, nd + ob);
                FloatVector a2 = FloatVector.fromArray(FS, out, 2 * nd + ob);
                FloatVector a3 = FloatVector.fromArray(FS, out, 3 * nd + ob);
                int pb = m * sp + first;
                int vb = (m * stride + col) * d + e;
                for (int j = 0; j < count; j++) {
                    FloatVector vv = FloatVector.fromMemorySegment(FS, v, 4L * vb, LE);
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(vv, a0);
                    a1 = FloatVector.broadcast(FS, lg[n * sp + pb + j]).fma(vv, a1);
                    a2 = FloatVector.broadcast(FS, lg[2 * n * sp + pb + j]).fma(vv, a2);
                    a3 = FloatVector.broadcast(FS, lg[3 * n * sp + pb + j]).fma(vv, a3);
                    vb += d;
                }
                a0.intoArray(out, ob);
                a1.intoArray(out, nd + ob);
                a2.intoArray(out, 2 * nd + ob);
                a3.intoArray(out, 3 * nd + ob);
            }
            for (; e < d; e += L) {
                VectorMask<Float> mask = FS.indexInRange(e, d);
                int ob = m * d + e;
                FloatVector a0 = FloatVector.fromArray(FS, out, ob, mask);
                FloatVector a1 = FloatVector.fromArray(FS, out, nd + ob, mask);
                FloatVector a2 = FloatVector.fromArray(FS, out, 2 * nd + ob, mask);
                FloatVector a3 = FloatVector.fromArray(FS, out, 3 * nd + ob, mask);
                int pb = m * sp + first;
                int vb = (m * stride + col) * d + e;
                for (int j = 0; j < count; j++) {
                    FloatVector vv = FloatVector.fromMemorySegment(FS, v, 4L * vb, LE, mask);
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(vv, a0);
                    a1 = FloatVector.broadcast(FS, lg[n * sp + pb + j]).fma(vv, a1);
                    a2 = FloatVector.broadcast(FS, lg[2 * n * sp + pb + j]).fma(vv, a2);
                    a3 = FloatVector.broadcast(FS, lg[3 * n * sp + pb + j]).fma(vv, a3);
                    vb += d;
                }
                a0.intoArray(out, ob, mask);
                a1.intoArray(out, nd + ob, mask);
                a2.intoArray(out, 2 * nd + ob, mask);
                a3.intoArray(out, 3 * nd + ob, mask);
            }
        }
    }

}
