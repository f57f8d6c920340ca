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
 * {@link RowGemv}'s four-column dot product for a single input row, reading the four weight rows straight from
 * memory (BF16 widened in registers, F32 as is) instead of widening them into a buffer first: one decode row
 * uses each weight once, so the buffer only cost a store and a load per weight, and four rows read side by side
 * keep four streams in flight where the buffered path read one row at a time (about twice the single-thread
 * bandwidth in an in-process comparison). The FMAs, their order and the lane sums are exactly those of
 * {@link RowGemv}'s buffered path, so a row's result does not depend on which path ran it.
 */
final class FusedRowDot {
    private FusedRowDot() {
    }

    /** Whether weights of this type have a fused path. */
    static boolean supports(DType dtype) {
        return dtype == DType.BF16 || dtype == DType.F32;
    }

    /**
     * out[c..c+4) = x · w[c..c+4)ᵀ (+ bias) for the input row at byte offset {@code xr} of {@code xs}, with
     * weight rows of {@code in} elements starting at byte offset {@code w0} of {@code ws} (rows back to back).
     */
    static void dot4(MemorySegment xs, long xr, MemorySegment ws, long w0, DType dtype, int in, float[] lanes,
                     MemorySegment os, long or, CpuTensor bias, int c) {
        boolean bf16 = dtype == DType.BF16;
        long rowBytes = (long) in * (bf16 ? 2 : 4);
        long r0 = w0;
        long r1 = w0 + rowBytes;
        long r2 = w0 + 2 * rowBytes;
        long r3 = w0 + 3 * rowBytes;
        int eb = bf16 ? 2 : 4;
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
            long p = (long) eb * i;
            long q = (long) eb * (i + L);
            a0 = load(ws, r0 + p, bf16).fma(x0, a0);
            b0 = load(ws, r0 + q, bf16).fma(x1, b0);
            a1 = load(ws, r1 + p, bf16).fma(x0, a1);
            b1 = load(ws, r1 + q, bf16).fma(x1, b1);
            a2 = load(ws, r2 + p, bf16).fma(x0, a2);
            b2 = load(ws, r2 + q, bf16).fma(x1, b2);
            a3 = load(ws, r3 + p, bf16).fma(x0, a3);
            b3 = load(ws, r3 + q, bf16).fma(x1, b3);
        }
        for (; i <= in - L; i += L) {
            FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            long p = (long) eb * i;
            a0 = load(ws, r0 + p, bf16).fma(x0, a0);
            a1 = load(ws, r1 + p, bf16).fma(x0, a1);
            a2 = load(ws, r2 + p, bf16).fma(x0, a2);
            a3 = load(ws, r3 + p, bf16).fma(x0, a3);
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
        for (; i < in; i++) {
            float xv = xs.get(CpuTensor.F32, xr + 4L * i);
            long p = (long) eb * i;
            lanes[0] += xv * scalar(ws, r0 + p, bf16);
            lanes[1] += xv * scalar(ws, r1 + p, bf16);
            lanes[2] += xv * scalar(ws, r2 + p, bf16);
            lanes[3] += xv * scalar(ws, r3 + p, bf16);
        }
        RowGemv.store4(lanes, os, or, bias, c);
    }

    /** L weights at byte offset {@code at}, widened exactly to F32. */
    private static FloatVector load(MemorySegment ws, long at, boolean bf16) {
        if (bf16) {
            return ((IntVector) ShortVector.fromMemorySegment(SS, ws, at, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        return FloatVector.fromMemorySegment(FS, ws, at, LE);
    }

    private static float scalar(MemorySegment ws, long at, boolean bf16) {
        return bf16 ? Float.intBitsToFloat((ws.get(CpuTensor.I16, at) & 0xffff) << 16) : ws.get(CpuTensor.F32, at);
    }
}
