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
 * {@link RowGemv}'s dot products of four input rows with four weight rows: each weight vector is loaded (and
 * widened) once for the four rows and each input vector once for the four columns, so sixteen FMAs share eight
 * loads, with all sixteen accumulators in registers (32 vector registers with AVX-512; narrower machines spill
 * some). A batch of decode rows reads the weights from memory once per block of four rows, the later blocks
 * finding them in L1. Each (row, column) accumulator takes exactly the FMAs of {@link FusedRowDot}, in the same
 * order, so a row's result is the same in a block of four as alone. Lanes land in {@code lanes} [4 rows][4][L].
 */
final class RowBlockDot {
    private RowBlockDot() {
    }

    /** lanes[(4r + j)·L ..) = lane accumulators of x_r · w_j, BF16 weight rows wr bytes apart, input rows xStride apart. */
    static void bf16(MemorySegment xs, long x0, long xStride, MemorySegment ws, long w0, long wr, int in, float[] lanes) {
        long x1 = x0 + xStride;
        long x2 = x1 + xStride;
        long x3 = x2 + xStride;
        long w1 = w0 + wr;
        long w2 = w1 + wr;
        long w3 = w2 + wr;
        FloatVector a00 = FloatVector.zero(FS);
        FloatVector a01 = FloatVector.zero(FS);
        FloatVector a02 = FloatVector.zero(FS);
        FloatVector a03 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS);
        FloatVector a11 = FloatVector.zero(FS);
        FloatVector a12 = FloatVector.zero(FS);
        FloatVector a13 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS);
        FloatVector a21 = FloatVector.zero(FS);
        FloatVector a22 = FloatVector.zero(FS);
        FloatVector a23 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS);
        FloatVector a31 = FloatVector.zero(FS);
        FloatVector a32 = FloatVector.zero(FS);
        FloatVector a33 = FloatVector.zero(FS);
        for (int i = 0; i <= in - L; i += L) {
            long p = 2L * i;
            FloatVector v0 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w0 + p, LE)
                    .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v1 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w1 + p, LE)
                    .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v2 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w2 + p, LE)
                    .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector v3 = ((IntVector) ShortVector.fromMemorySegment(SS, ws, w3 + p, LE)
                    .convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector y0 = FloatVector.fromMemorySegment(FS, xs, x0 + 4L * i, LE);
            a00 = v0.fma(y0, a00);
            a01 = v1.fma(y0, a01);
            a02 = v2.fma(y0, a02);
            a03 = v3.fma(y0, a03);
            FloatVector y1 = FloatVector.fromMemorySegment(FS, xs, x1 + 4L * i, LE);
            a10 = v0.fma(y1, a10);
            a11 = v1.fma(y1, a11);
            a12 = v2.fma(y1, a12);
            a13 = v3.fma(y1, a13);
            FloatVector y2 = FloatVector.fromMemorySegment(FS, xs, x2 + 4L * i, LE);
            a20 = v0.fma(y2, a20);
            a21 = v1.fma(y2, a21);
            a22 = v2.fma(y2, a22);
            a23 = v3.fma(y2, a23);
            FloatVector y3 = FloatVector.fromMemorySegment(FS, xs, x3 + 4L * i, LE);
            a30 = v0.fma(y3, a30);
            a31 = v1.fma(y3, a31);
            a32 = v2.fma(y3, a32);
            a33 = v3.fma(y3, a33);
        }
        a00.intoArray(lanes, 0 * L);
        a01.intoArray(lanes, 1 * L);
        a02.intoArray(lanes, 2 * L);
        a03.intoArray(lanes, 3 * L);
        a10.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a12.intoArray(lanes, 6 * L);
        a13.intoArray(lanes, 7 * L);
        a20.intoArray(lanes, 8 * L);
        a21.intoArray(lanes, 9 * L);
        a22.intoArray(lanes, 10 * L);
        a23.intoArray(lanes, 11 * L);
        a30.intoArray(lanes, 12 * L);
        a31.intoArray(lanes, 13 * L);
        a32.intoArray(lanes, 14 * L);
        a33.intoArray(lanes, 15 * L);
    }

    /** {@link #bf16} for F32 weight rows (F32 weights, or rows widened into a scratch segment). */
    static void f32(MemorySegment xs, long x0, long xStride, MemorySegment ws, long w0, long wr, int in, float[] lanes) {
        long x1 = x0 + xStride;
        long x2 = x1 + xStride;
        long x3 = x2 + xStride;
        long w1 = w0 + wr;
        long w2 = w1 + wr;
        long w3 = w2 + wr;
        FloatVector a00 = FloatVector.zero(FS);
        FloatVector a01 = FloatVector.zero(FS);
        FloatVector a02 = FloatVector.zero(FS);
        FloatVector a03 = FloatVector.zero(FS);
        FloatVector a10 = FloatVector.zero(FS);
        FloatVector a11 = FloatVector.zero(FS);
        FloatVector a12 = FloatVector.zero(FS);
        FloatVector a13 = FloatVector.zero(FS);
        FloatVector a20 = FloatVector.zero(FS);
        FloatVector a21 = FloatVector.zero(FS);
        FloatVector a22 = FloatVector.zero(FS);
        FloatVector a23 = FloatVector.zero(FS);
        FloatVector a30 = FloatVector.zero(FS);
        FloatVector a31 = FloatVector.zero(FS);
        FloatVector a32 = FloatVector.zero(FS);
        FloatVector a33 = FloatVector.zero(FS);
        for (int i = 0; i <= in - L; i += L) {
            long p = 4L * i;
            FloatVector v0 = FloatVector.fromMemorySegment(FS, ws, w0 + p, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(FS, ws, w1 + p, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(FS, ws, w2 + p, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(FS, ws, w3 + p, LE);
            FloatVector y0 = FloatVector.fromMemorySegment(FS, xs, x0 + 4L * i, LE);
            a00 = v0.fma(y0, a00);
            a01 = v1.fma(y0, a01);
            a02 = v2.fma(y0, a02);
            a03 = v3.fma(y0, a03);
            FloatVector y1 = FloatVector.fromMemorySegment(FS, xs, x1 + 4L * i, LE);
            a10 = v0.fma(y1, a10);
            a11 = v1.fma(y1, a11);
            a12 = v2.fma(y1, a12);
            a13 = v3.fma(y1, a13);
            FloatVector y2 = FloatVector.fromMemorySegment(FS, xs, x2 + 4L * i, LE);
            a20 = v0.fma(y2, a20);
            a21 = v1.fma(y2, a21);
            a22 = v2.fma(y2, a22);
            a23 = v3.fma(y2, a23);
            FloatVector y3 = FloatVector.fromMemorySegment(FS, xs, x3 + 4L * i, LE);
            a30 = v0.fma(y3, a30);
            a31 = v1.fma(y3, a31);
            a32 = v2.fma(y3, a32);
            a33 = v3.fma(y3, a33);
        }
        a00.intoArray(lanes, 0 * L);
        a01.intoArray(lanes, 1 * L);
        a02.intoArray(lanes, 2 * L);
        a03.intoArray(lanes, 3 * L);
        a10.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a12.intoArray(lanes, 6 * L);
        a13.intoArray(lanes, 7 * L);
        a20.intoArray(lanes, 8 * L);
        a21.intoArray(lanes, 9 * L);
        a22.intoArray(lanes, 10 * L);
        a23.intoArray(lanes, 11 * L);
        a30.intoArray(lanes, 12 * L);
        a31.intoArray(lanes, 13 * L);
        a32.intoArray(lanes, 14 * L);
        a33.intoArray(lanes, 15 * L);
    }

}
