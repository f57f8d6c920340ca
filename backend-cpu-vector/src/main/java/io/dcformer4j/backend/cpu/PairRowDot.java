package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;

/**
 * {@link RowGemv}'s four-column dot product for two input rows at once: each widened weight vector is loaded
 * once for both rows, which halves the loads per FMA of a batch (the widened rows of a wide layer, 45 KB for
 * 2816 inputs, do not fit L1, so row after row re-read them from L2: about three times slower in an in-process
 * comparison at batch 8). Each row keeps its own accumulators with exactly the FMAs, order and lane sums of
 * {@link RowGemv}'s one-row path (lane sums in {@link Vec}'s tree order, then {@link RowGemv#finish4}), so a row's result does not depend on its partner.
 */
final class PairRowDot {
    private PairRowDot() {
    }

    /** out[c..c+4) of the rows at byte offsets {@code xr} and {@code yr} (written at {@code or} and {@code pr}). */
    static void dot4x2(MemorySegment xs, long xr, long yr, float[] w0, float[] w1, float[] w2, float[] w3, int in,
                       float[] lanes, MemorySegment os, long or, long pr, CpuTensor bias, int c) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        FloatVector c0 = a0;
        FloatVector c1 = a0;
        FloatVector c2 = a0;
        FloatVector c3 = a0;
        FloatVector d0 = a0;
        FloatVector d1 = a0;
        FloatVector d2 = a0;
        FloatVector d3 = a0;
        int i = 0;
        for (; i <= in - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            FloatVector x1 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * (i + L), LE);
            FloatVector y0 = FloatVector.fromMemorySegment(FS, xs, yr + 4L * i, LE);
            FloatVector y1 = FloatVector.fromMemorySegment(FS, xs, yr + 4L * (i + L), LE);
            FloatVector u = FloatVector.fromArray(FS, w0, i);
            FloatVector v = FloatVector.fromArray(FS, w0, i + L);
            a0 = u.fma(x0, a0);
            b0 = v.fma(x1, b0);
            c0 = u.fma(y0, c0);
            d0 = v.fma(y1, d0);
            u = FloatVector.fromArray(FS, w1, i);
            v = FloatVector.fromArray(FS, w1, i + L);
            a1 = u.fma(x0, a1);
            b1 = v.fma(x1, b1);
            c1 = u.fma(y0, c1);
            d1 = v.fma(y1, d1);
            u = FloatVector.fromArray(FS, w2, i);
            v = FloatVector.fromArray(FS, w2, i + L);
            a2 = u.fma(x0, a2);
            b2 = v.fma(x1, b2);
            c2 = u.fma(y0, c2);
            d2 = v.fma(y1, d2);
            u = FloatVector.fromArray(FS, w3, i);
            v = FloatVector.fromArray(FS, w3, i + L);
            a3 = u.fma(x0, a3);
            b3 = v.fma(x1, b3);
            c3 = u.fma(y0, c3);
            d3 = v.fma(y1, d3);
        }
        for (; i <= in - L; i += L) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            FloatVector y0 = FloatVector.fromMemorySegment(FS, xs, yr + 4L * i, LE);
            FloatVector u = FloatVector.fromArray(FS, w0, i);
            a0 = u.fma(x0, a0);
            c0 = u.fma(y0, c0);
            u = FloatVector.fromArray(FS, w1, i);
            a1 = u.fma(x0, a1);
            c1 = u.fma(y0, c1);
            u = FloatVector.fromArray(FS, w2, i);
            a2 = u.fma(x0, a2);
            c2 = u.fma(y0, c2);
            u = FloatVector.fromArray(FS, w3, i);
            a3 = u.fma(x0, a3);
            c3 = u.fma(y0, c3);
        }
        a0 = a0.add(b0);
        a1 = a1.add(b1);
        a2 = a2.add(b2);
        a3 = a3.add(b3);
        c0 = c0.add(d0);
        c1 = c1.add(d1);
        c2 = c2.add(d2);
        c3 = c3.add(d3);
        // each row's lane sums in Vec's tree order (see there)
        FloatVector ab = a0.add(a0.rearrange(Vec.SWAP1)).blend(a1.add(a1.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector cd = a2.add(a2.rearrange(Vec.SWAP1)).blend(a3.add(a3.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector s = ab.add(ab.rearrange(Vec.SWAP2)).blend(cd.add(cd.rearrange(Vec.SWAP2)), Vec.HIGH_PAIR);
        FloatVector ef = c0.add(c0.rearrange(Vec.SWAP1)).blend(c1.add(c1.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector gh = c2.add(c2.rearrange(Vec.SWAP1)).blend(c3.add(c3.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector t = ef.add(ef.rearrange(Vec.SWAP2)).blend(gh.add(gh.rearrange(Vec.SWAP2)), Vec.HIGH_PAIR);
        if (L > 4) {
            s = s.add(s.rearrange(Vec.SWAP4));
            t = t.add(t.rearrange(Vec.SWAP4));
        }
        if (L > 8) {
            s = s.add(s.rearrange(Vec.SWAP8));
            t = t.add(t.rearrange(Vec.SWAP8));
        }
        s.intoArray(lanes, 0);
        RowGemv.finish4(lanes, xs, xr, w0, w1, w2, w3, i, in, os, or, bias, c);
        t.intoArray(lanes, 0);
        RowGemv.finish4(lanes, xs, yr, w0, w1, w2, w3, i, in, os, pr, bias, c);
    }
}
