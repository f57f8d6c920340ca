package io.dcformer4j.api;

/**
 * Storage type of a tensor. Arithmetic is F32 unless a backend documents otherwise; BF16 and F16 are
 * storage formats for weights (widened to F32 when used), I32 holds token ids.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4),
    /** bfloat16: the upper half of a binary32. */
    BF16(2),
    /** IEEE 754 binary16. */
    F16(2),
    /** 32-bit signed integer (token ids). */
    I32(4);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes taken by one element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether values of this type are floating point. */
    public boolean isFloating() {
        return this != I32;
    }

    /**
     * The type named the way safetensors headers name it ({@code F32}, {@code BF16}, {@code F16},
     * {@code I32}).
     *
     * @throws IllegalArgumentException naming the value when it is not one of ours
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported dtype '" + name + "' (supported: F32, BF16, F16, I32)");
    }
}
