package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * {@code out = x · wᵀ + bias} with w [O, in] of any float dtype, by dot products of four weight rows at
 * a time against each input row (the weight rows stay in cache while all T input rows pass).
 */
final class LinearKernel {
    private LinearKernel() {
    }

    /** Output columns [o0, o1) for all T rows. */
    static void columns(CpuTensor x, CpuTensor w, CpuTensor bias, CpuTensor out, int t, int in, int o, int o0, int o1) {
        MemorySegment xs = x.seg();
        MemorySegment ws = w.seg();
        MemorySegment os = out.seg();
        DType wt = w.dtype();
        long wb = wt.byteSize();
        int c = o0;
        for (; c + 4 <= o1; c += 4) {
            long w0 = w.offset + wb * (long) c * in;
            long w1 = w0 + wb * in;
            long w2 = w1 + wb * in;
            long w3 = w2 + wb * in;
            for (int r = 0; r < t; r++) {
                long xo = x.offset + 4L * r * in;
                FloatVector a0 = FloatVector.zero(Vec.FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int i = 0;
                for (; i <= in - L; i += L) {
                    FloatVector xv = Vec.f32(xs, xo + 4L * i);
                    a0 = Vec.load(wt, ws, w0, i).fma(xv, a0);
                    a1 = Vec.load(wt, ws, w1, i).fma(xv, a1);
                    a2 = Vec.load(wt, ws, w2, i).fma(xv, a2);
                    a3 = Vec.load(wt, ws, w3, i).fma(xv, a3);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD);
                float s1 = a1.reduceLanes(VectorOperators.ADD);
                float s2 = a2.reduceLanes(VectorOperators.ADD);
                float s3 = a3.reduceLanes(VectorOperators.ADD);
                for (; i < in; i++) {
                    float xv = Vec.getF(xs, xo + 4L * i);
                    s0 += xv * Vec.get(wt, ws, w0, i);
                    s1 += xv * Vec.get(wt, ws, w1, i);
                    s2 += xv * Vec.get(wt, ws, w2, i);
                    s3 += xv * Vec.get(wt, ws, w3, i);
                }
                long oo = out.offset + 4L * ((long) r * o + c);
                Vec.setF(os, oo, s0 + biasAt(bias, c));
                Vec.setF(os, oo + 4, s1 + biasAt(bias, c + 1));
                Vec.setF(os, oo + 8, s2 + biasAt(bias, c + 2));
                Vec.setF(os, oo + 12, s3 + biasAt(bias, c + 3));
            }
        }
        for (; c < o1; c++) {
            long w0 = w.offset + wb * (long) c * in;
            for (int r = 0; r < t; r++) {
                long xo = x.offset + 4L * r * in;
                FloatVector a0 = FloatVector.zero(Vec.FS);
                int i = 0;
                for (; i <= in - L; i += L) {
                    a0 = Vec.load(wt, ws, w0, i).fma(Vec.f32(xs, xo + 4L * i), a0);
                }
                float s0 = a0.reduceLanes(VectorOperators.ADD);
                for (; i < in; i++) {
                    s0 += Vec.getF(xs, xo + 4L * i) * Vec.get(wt, ws, w0, i);
                }
                Vec.setF(os, out.offset + 4L * ((long) r * o + c), s0 + biasAt(bias, c));
            }
        }
    }

    private static float biasAt(CpuTensor bias, int c) {
        return bias == null ? 0f : Vec.get(bias.dtype(), bias.seg(), bias.offset, c);
    }
}
