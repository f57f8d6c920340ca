package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import io.dcformer4j.api.Q8_0Format;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * The widening of {@link io.dcformer4j.api.DType#Q8_0} weight rows, beside its scalar twin
 * ({@link io.dcformer4j.api.Q8_0Format#get}): per block of 32, the F16 scale is read once and the signed
 * bytes are loaded {@link Vec#L} at a time, converted to floats in registers and multiplied by the scale.
 * d · q is exact in F32, so the vector and scalar paths give the same floats whatever the vector width, and
 * {@link RowGemv} and {@link LinearKernel} then run their F32 loops unchanged (decode reads 34 bytes per 32
 * weights instead of 64).
 */
final class Q8Loops {
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 34;
    /** Bytes of L lanes: a 64-bit vector at 256-bit floats, 128-bit at 512; none narrower than 64 bits. */
    private static final VectorSpecies<Byte> BS = L >= 8 && BLOCK % L == 0
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(8 * L)) : null;

    private Q8Loops() {
    }

    /**
     * dst[0..n) = the n values (n a multiple of 32) of the Q8_0 blocks starting at byte offset src, the first
     * value beginning a block.
     */
    static void widen(MemorySegment s, long src, float[] dst, int n) {
        if (BS == null) {
            widenScalar(s, src, dst, n);
            return;
        }
        for (int b = 0; b < n; b += BLOCK) {
            long at = src + (long) (b / BLOCK) * BLOCK_BYTES;
            float d = Float.float16ToFloat(s.get(CpuTensor.I16, at));
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector v = (FloatVector) ByteVector.fromMemorySegment(BS, s, at + 2 + j, Vec.LE)
                        .convertShape(VectorOperators.B2F, FS, 0);
                v.mul(d).intoArray(dst, b + j);
            }
        }
    }

    /** {@link #widen} into F32 elements of a segment, dst[dstAt ..) (the GEMV's off-heap scratch rows). */
    static void widen(MemorySegment s, long src, MemorySegment dst, long dstAt, int n) {
        if (BS == null) {
            for (int i = 0; i < n; i++) {
                dst.set(CpuTensor.F32, dstAt + 4L * i, Q8_0Format.get(s, src, i));
            }
            return;
        }
        for (int b = 0; b < n; b += BLOCK) {
            long at = src + (long) (b / BLOCK) * BLOCK_BYTES;
            float d = Float.float16ToFloat(s.get(CpuTensor.I16, at));
            for (int j = 0; j < BLOCK; j += L) {
                FloatVector v = (FloatVector) ByteVector.fromMemorySegment(BS, s, at + 2 + j, Vec.LE)
                        .convertShape(VectorOperators.B2F, FS, 0);
                v.mul(d).intoMemorySegment(dst, dstAt + 4L * (b + j), Vec.LE);
            }
        }
    }

    /** The scalar twin of {@link #widen}, for vectors of fewer than eight floats. */
    static void widenScalar(MemorySegment s, long src, float[] dst, int n) {
        for (int b = 0; b < n; b += BLOCK) {
            long at = src + (long) (b / BLOCK) * BLOCK_BYTES;
            float d = Float.float16ToFloat(s.get(CpuTensor.I16, at));
            for (int j = 0; j < BLOCK; j++) {
                dst[b + j] = d * s.get(ValueLayout.JAVA_BYTE, at + 2 + j);
            }
        }
    }
}
