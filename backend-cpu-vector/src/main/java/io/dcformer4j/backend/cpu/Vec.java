package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector loads and stores over memory segments: F32 directly, BF16 and F16 widened to F32 in registers
 * (a 16-bit storage vector of the same lane count is loaded, sign-extended to ints and re-biased).
 */
final class Vec {
    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = FS.length();
    static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Vec() {
    }

    static FloatVector f32(MemorySegment s, long byteOffset) {
        return FloatVector.fromMemorySegment(FS, s, byteOffset, LE);
    }

    static void store(FloatVector v, MemorySegment s, long byteOffset) {
        v.intoMemorySegment(s, byteOffset, LE);
    }

    /** L bfloat16 values at {@code byteOffset}, widened exactly. */
    static FloatVector bf16(MemorySegment s, long byteOffset) {
        ShortVector sv = ShortVector.fromMemorySegment(SS, s, byteOffset, LE);
        IntVector iv = (IntVector) sv.convertShape(VectorOperators.S2I, IS, 0);
        return iv.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** L IEEE binary16 values at {@code byteOffset}, widened exactly (subnormals, infinities and NaN included). */
    static FloatVector f16(MemorySegment s, long byteOffset) {
        ShortVector sv = ShortVector.fromMemorySegment(SS, s, byteOffset, LE);
        IntVector h = (IntVector) sv.convertShape(VectorOperators.S2I, IS, 0);
        IntVector magnitude = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        // exponent re-bias by 2^112 is exact for normals and turns f16 subnormals into f32 normals
        IntVector scaled = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = h.and(0x7c00).compare(VectorOperators.EQ, 0x7c00);
        IntVector bits = scaled.blend(magnitude.or(0x7f800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    /** L elements of a tensor of float dtype {@code dt}, starting at element {@code elem} of storage at {@code base}. */
    static FloatVector load(DType dt, MemorySegment s, long base, long elem) {
        return switch (dt) {
            case F32 -> f32(s, base + 4 * elem);
            case BF16 -> bf16(s, base + 2 * elem);
            case F16 -> f16(s, base + 2 * elem);
            case I32 -> throw new IllegalArgumentException("I32 is not a float type");
        };
    }

    /** One element of float dtype {@code dt}, widened. */
    static float get(DType dt, MemorySegment s, long base, long elem) {
        return switch (dt) {
            case F32 -> s.get(CpuTensor.F32, base + 4 * elem);
            case BF16 -> Float.intBitsToFloat((s.get(CpuTensor.I16, base + 2 * elem) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(s.get(CpuTensor.I16, base + 2 * elem));
            case I32 -> throw new IllegalArgumentException("I32 is not a float type");
        };
    }

    static float getF(MemorySegment s, long byteOffset) {
        return s.get(CpuTensor.F32, byteOffset);
    }

    static void setF(MemorySegment s, long byteOffset, float v) {
        s.set(CpuTensor.F32, byteOffset, v);
    }
}
