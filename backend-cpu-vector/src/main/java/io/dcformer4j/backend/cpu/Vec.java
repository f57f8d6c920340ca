package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Q8_0Format;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The vector species used by every kernel (the preferred float shape, with the 16-bit and int species of the
 * same lane count used to widen BF16/F16 in registers) and scalar element access. There are deliberately no
 * vector-valued helpers here: C2 compiles such a helper on its own, with boxed vectors, and then refuses to
 * inline it into the hot loops.
 *
 * <p>The system property {@value #BITS_PROPERTY} (128, 256 or 512, at most the preferred width) narrows the
 * vectors, for JVMs or CPUs where the widest shape is slow; {@link ComposeLoop#SCALAR_PROPERTY} replaces the
 * compose loop by its scalar twin.
 */
final class Vec {
    /** System property that sets the vector width in bits. */
    static final String BITS_PROPERTY = VectorProbe.BITS_PROPERTY;
    static final VectorSpecies<Float> FS = VectorProbe.species(System.getProperty(BITS_PROPERTY));
    /** Floats per vector. */
    static final int L = FS.length();
    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Lane swaps (lane i takes lane i ^ k) and lane masks of {@link LaneSum#tree4}. */
    static final VectorShuffle<Float> SWAP1 = VectorShuffle.fromOp(FS, i -> i ^ 1);
    static final VectorShuffle<Float> SWAP2 = VectorShuffle.fromOp(FS, i -> i ^ 2);
    static final VectorShuffle<Float> SWAP4 = VectorShuffle.fromOp(FS, i -> i ^ (4 % L));
    static final VectorShuffle<Float> SWAP8 = VectorShuffle.fromOp(FS, i -> i ^ (8 % L));
    /** Odd lanes, and lanes whose index has bit 1 set. */
    static final VectorMask<Float> ODD = laneBit(1);
    static final VectorMask<Float> HIGH_PAIR = laneBit(2);

    private Vec() {
    }


    private static VectorMask<Float> laneBit(int bit) {
        boolean[] set = new boolean[L];
        for (int i = 0; i < L; i++) {
            set[i] = (i & bit) != 0;
        }
        return VectorMask.fromArray(FS, set, 0);
    }

    /** One element of float dtype {@code dt}, widened. */
    static float get(DType dt, MemorySegment s, long base, long elem) {
        return switch (dt) {
            case F32 -> s.get(CpuTensor.F32, base + 4 * elem);
            case BF16 -> Float.intBitsToFloat((s.get(CpuTensor.I16, base + 2 * elem) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(s.get(CpuTensor.I16, base + 2 * elem));
            case I32 -> throw new IllegalArgumentException("I32 is not a float type");
            case Q8_0 -> Q8_0Format.get(s, base, elem);
        };
    }

    static float getF(MemorySegment s, long byteOffset) {
        return s.get(CpuTensor.F32, byteOffset);
    }

    static void setF(MemorySegment s, long byteOffset, float v) {
        s.set(CpuTensor.F32, byteOffset, v);
    }
}
