package io.dcformer4j.backend.cpu;

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
 * {@link RowGemv}'s four-column dot product for one input row, reading the four weight rows straight from
 * memory (BF16 widened in registers, F32 as is): one decode row uses each weight once, and four rows read side
 * by side keep four streams in flight. Each (row, column) pair has one accumulator that takes the FMAs of
 * lanes 0, L, 2L, … in turn, exactly as in {@link RowBlockDot}, so a row's result does not depend on how many
 * rows a call has. The vector lanes land in {@code lanes} [4][L]; {@link RowGemv#finish} sums them.
 */
final class FusedRowDot {
    private FusedRowDot() {
    }

    /** lanes[j·L ..) = the lane accumulators of x · w_j over [0, in - in % L), BF16 weight rows wr bytes apart. */
    static void bf16(MemorySegment xs, long xr, MemorySegment ws, long w0, long wr, int in, float[] lanes) {
        long w1 = w0 + wr;
        long w2 = w1 + wr;
        long w3 = w2 + wr;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i <= in - L; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            long p = 2L * i;
            // BF16 → F32: the 16 bits become the high half of the float (exact)
            a0 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w0 + p, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, a0);
            a1 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w1 + p, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, a1);
            a2 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w2 + p, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, a2);
            a3 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w3 + p, LE).convertShape(VectorOperators.S2I, IS, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x, a3);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
    }

    /** {@link #bf16} for F32 weight rows (F32 weights, or rows widened into a scratch segment). */
    static void f32(MemorySegment xs, long xr, MemorySegment ws, long w0, long wr, int in, float[] lanes) {
        long w1 = w0 + wr;
        long w2 = w1 + wr;
        long w3 = w2 + wr;
        FloatVector a0 = FloatVector.zero(FS);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int i = 0; i <= in - L; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
            long p = 4L * i;
            a0 = FloatVector.fromMemorySegment(FS, ws, w0 + p, LE).fma(x, a0);
            a1 = FloatVector.fromMemorySegment(FS, ws, w1 + p, LE).fma(x, a1);
            a2 = FloatVector.fromMemorySegment(FS, ws, w2 + p, LE).fma(x, a2);
            a3 = FloatVector.fromMemorySegment(FS, ws, w3 + p, LE).fma(x, a3);
        }
        a0.intoArray(lanes, 0);
        a1.intoArray(lanes, L);
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
    }
}
