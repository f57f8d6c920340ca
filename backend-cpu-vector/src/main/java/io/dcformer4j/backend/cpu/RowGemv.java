package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;

/**
 * {@code out = x · wᵀ + bias} for a few rows (decode, and the decode rows of a batch of sequences), written
 * so that every output row is computed with the same operations in the same order whatever the number of
 * rows: a batched decode step then gives each sequence the very floats its own decode would. The workers
 * split the output columns (boundaries depend on the column count and worker count only); each block of
 * four weight rows is widened once into a per-thread F32 buffer (exact, so the dtype does not change the
 * order) and then dotted with every input row in turn, which reads the weights from memory once for all
 * rows (a single row reads them in place instead, {@link FusedRowDot}, with the same operations); Q8_0 rows
 * are dequantized the same way ({@link Q8Loops}: d · q is exact). Lanes are summed in a fixed order rather
 * than with {@code reduceLanes}, whose order may differ
 * between the interpreter and compiled code.
 */
final class RowGemv {
    /** Up to this many input rows {@code linear} takes this path; more take the packed GEMM. */
    static final int MAX_ROWS = 64;
    /** Output columns per unit of work split over the workers (a multiple of the four-column block). */
    static final int GRAIN = 16;

    /** Per-thread buffers: four widened weight rows and one vector of lanes per block column. */
    static final class Buffers {
        final float[][] w = {new float[0], new float[0], new float[0], new float[0]}; // 4 × [in]
        final float[] lanes = new float[4 * L];
    }

    private RowGemv() {
    }

    static void run(WorkerPool pool, ThreadLocal<Buffers> buffers, CpuTensor x, CpuTensor w, CpuTensor bias, CpuTensor out,
                    int t, int in, int o) {
        pool.parallelFor(o, GRAIN, (c0, c1) -> columns(x, w, bias, out, t, in, o, c0, c1, buffers.get()));
    }

    /** Output columns [c0, c1) of all t rows. */
    static void columns(CpuTensor x, CpuTensor w, CpuTensor bias, CpuTensor out, int t, int in, int o, int c0, int c1,
                        Buffers buf) {
        if (buf.w[0].length < in) {
            for (int j = 0; j < 4; j++) {
                buf.w[j] = new float[in];
            }
        }
        float[][] wb = buf.w;
        MemorySegment xs = x.seg();
        MemorySegment os = out.seg();
        int c = c0;
        boolean fused = t == 1 && FusedRowDot.supports(w.dtype());
        long eb = fused ? w.dtype().byteSize() : 0;   // Q8_0 has no element size; it is never fused
        for (; c + 4 <= c1; c += 4) {
            if (fused) {
                FusedRowDot.dot4(xs, x.offset, w.seg(), w.offset + eb * c * in, w.dtype(), in, buf.lanes, os,
                        out.offset + 4L * c, bias, c);
                continue;
            }
            for (int j = 0; j < 4; j++) {
                widen(w, (long) (c + j) * in, wb[j], in);
            }
            int r = 0;
            for (; r + 2 <= t; r += 2) { // two rows share each weight load
                long xr = x.offset + 4L * r * in;
                long or = out.offset + 4L * ((long) r * o + c);
                PairRowDot.dot4x2(xs, xr, xr + 4L * in, wb[0], wb[1], wb[2], wb[3], in, buf.lanes, os, or,
                        or + 4L * o, bias, c);
            }
            for (; r < t; r++) {
                long xr = x.offset + 4L * r * in;
                long or = out.offset + 4L * ((long) r * o + c);
                dot4(xs, xr, wb[0], wb[1], wb[2], wb[3], in, buf.lanes, os, or, bias, c);
            }
        }
        for (; c < c1; c++) {
            widen(w, (long) c * in, wb[0], in);
            for (int r = 0; r < t; r++) {
                float s = dot1(xs, x.offset + 4L * r * in, wb[0], in);
                os.set(CpuTensor.F32, out.offset + 4L * ((long) r * o + c), s + (bias == null ? 0f : bias.getFloat(c)));
            }
        }
    }

    /** Weight elements [from, from + n) widened into dst[0..n). */
    private static void widen(CpuTensor w, long from, float[] dst, int n) {
        switch (w.dtype()) {
            case F32 -> LinearLoops.widenF32(w.seg(), w.offset + 4L * from, dst, n);
            case BF16 -> LinearLoops.widenBF16(w.seg(), w.offset + 2L * from, dst, n);
            case F16 -> LinearLoops.widenF16(w.seg(), w.offset + 2L * from, dst, n);
            case Q8_0 -> Q8Loops.widen(w.seg(), w.offset + w.dtype().bytesFor(from), dst, n);
            case I32 -> throw new IllegalArgumentException("linear: I32 weights");
        }
    }

    /** Four dot products of one input row with the four widened rows of wb; writes out[c..c+4) (+ bias). */
    private static void dot4(MemorySegment xs, long xr, float[] w0, float[] w1, float[] w2, float[] w3, int in,
                             float[] lanes, MemorySegment os, long or, CpuTensor bias, int c) {
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        FloatVector b0 = a0;
        FloatVector b1 = a0;
        FloatVector b2 = a0;
        FloatVector b3 = a0;
        int i = 0;
        for (; i <= in - 2 * L; i += 2 * L) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            FloatVector x1 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * (i + L), LE);
            a0 = FloatVector.fromArray(FS, w0, i).fma(x0, a0);
            b0 = FloatVector.fromArray(FS, w0, i + L).fma(x1, b0);
            a1 = FloatVector.fromArray(FS, w1, i).fma(x0, a1);
            b1 = FloatVector.fromArray(FS, w1, i + L).fma(x1, b1);
            a2 = FloatVector.fromArray(FS, w2, i).fma(x0, a2);
            b2 = FloatVector.fromArray(FS, w2, i + L).fma(x1, b2);
            a3 = FloatVector.fromArray(FS, w3, i).fma(x0, a3);
            b3 = FloatVector.fromArray(FS, w3, i + L).fma(x1, b3);
        }
        for (; i <= in - L; i += L) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            a0 = FloatVector.fromArray(FS, w0, i).fma(x0, a0);
            a1 = FloatVector.fromArray(FS, w1, i).fma(x0, a1);
            a2 = FloatVector.fromArray(FS, w2, i).fma(x0, a2);
            a3 = FloatVector.fromArray(FS, w3, i).fma(x0, a3);
        }
        a0 = a0.add(b0);
        a1 = a1.add(b1);
        a2 = a2.add(b2);
        a3 = a3.add(b3);
        // lane sums in Vec's tree order (see there)
        FloatVector ab = a0.add(a0.rearrange(Vec.SWAP1)).blend(a1.add(a1.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector cd = a2.add(a2.rearrange(Vec.SWAP1)).blend(a3.add(a3.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector s = ab.add(ab.rearrange(Vec.SWAP2)).blend(cd.add(cd.rearrange(Vec.SWAP2)), Vec.HIGH_PAIR);
        if (L > 4) {
            s = s.add(s.rearrange(Vec.SWAP4));
        }
        if (L > 8) {
            s = s.add(s.rearrange(Vec.SWAP8));
        }
        s.intoArray(lanes, 0);
        finish4(lanes, xs, xr, w0, w1, w2, w3, i, in, os, or, bias, c);
    }

    /**
     * The end of a four-column dot product shared by the buffered paths: {@code lanes[0..4)} hold the four
     * columns' lane sums (in {@link Vec}'s tree order), to which the elements from {@code i} on (a tail shorter
     * than a vector) are added one by one, then the bias; writes out[c..c+4) of the row at {@code or}.
     */
    static void finish4(float[] lanes, MemorySegment xs, long xr, float[] w0, float[] w1, float[] w2, float[] w3, int i,
                        int in, MemorySegment os, long or, CpuTensor bias, int c) {
        for (; i < in; i++) {
            float xv = xs.get(CpuTensor.F32, xr + 4L * i);
            lanes[0] += xv * w0[i];
            lanes[1] += xv * w1[i];
            lanes[2] += xv * w2[i];
            lanes[3] += xv * w3[i];
        }
        store4(lanes, os, or, bias, c);
    }

    /** out[c..c+4) of the row at {@code or} = lanes[0..4) (+ bias). */
    static void store4(float[] lanes, MemorySegment os, long or, CpuTensor bias, int c) {
        float s0 = lanes[0];
        float s1 = lanes[1];
        float s2 = lanes[2];
        float s3 = lanes[3];
        if (bias != null) {
            s0 += bias.getFloat(c);
            s1 += bias.getFloat(c + 1);
            s2 += bias.getFloat(c + 2);
            s3 += bias.getFloat(c + 3);
        }
        os.set(CpuTensor.F32, or, s0);
        os.set(CpuTensor.F32, or + 4, s1);
        os.set(CpuTensor.F32, or + 8, s2);
        os.set(CpuTensor.F32, or + 12, s3);
    }

    /** One dot product of an input row with the widened row at wb[0..in). */
    private static float dot1(MemorySegment xs, long xr, float[] wb, int in) {
        FloatVector a0 = FloatVector.zero(FS);
        int i = 0;
        for (; i <= in - L; i += L) {
            a0 = FloatVector.fromArray(FS, wb, i).fma(FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE), a0);
        }
        // Vec's tree order, as for four columns
        a0 = a0.add(a0.rearrange(Vec.SWAP1));
        a0 = a0.add(a0.rearrange(Vec.SWAP2));
        if (L > 4) {
            a0 = a0.add(a0.rearrange(Vec.SWAP4));
        }
        if (L > 8) {
            a0 = a0.add(a0.rearrange(Vec.SWAP8));
        }
        float s = a0.lane(0);
        for (; i < in; i++) {
            s += xs.get(CpuTensor.F32, xr + 4L * i) * wb[i];
        }
        return s;
    }
}
