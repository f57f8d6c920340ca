package io.dcformer4j.api;

/**
 * Storage type of a tensor. Arithmetic is F32 unless a backend documents otherwise; BF16 and F16 are
 * storage formats for weights (widened to F32 when used), I32 holds token ids, and {@link #Q8_0} is a
 * block-quantized weight format (see {@link Q8_0}).
 *
 * <p>The element types store one value in {@link #byteSize()} bytes. A block type stores
 * {@link #blockSize()} consecutive values of the last axis in {@link #blockBytes()} bytes, so it has no
 * per-element size: code that sizes memory calls {@link #bytesFor(long)}, which works for both.
 */
public enum DType {
    /** IEEE 754 binary32. */
    F32(4, 1),
    /** bfloat16: the upper half of a binary32. */
    BF16(2, 1),
    /** IEEE 754 binary16. */
    F16(2, 1),
    /** 32-bit signed integer (token ids). */
    I32(4, 1),
    /**
     * 8-bit block-quantized weights, llama.cpp's Q8_0 block layout: every 32 consecutive values of the last
     * axis are one F16 scale d followed by 32 signed bytes q (34 bytes), value = d · q. A weight format only:
     * backends accept it as the weight of {@link Backend#linear} (the last axis a multiple of 32), and
     * nowhere else. Its safetensors name is {@code Q8_0} (a dcformer4j extension of the format).
     */
    Q8_0(Q8_0Format.BLOCK_BYTES, Q8_0Format.BLOCK);

    private final int blockBytes;
    private final int blockSize;

    DType(int blockBytes, int blockSize) {
        this.blockBytes = blockBytes;
        this.blockSize = blockSize;
    }

    /**
     * Bytes taken by one element of an element type.
     *
     * @throws UnsupportedOperationException for a block type ({@link #Q8_0}), whose elements have no size of
     *                                       their own: use {@link #bytesFor(long)}
     */
    public int byteSize() {
        if (blockSize != 1) {
            throw new UnsupportedOperationException(this + " is stored in blocks of " + blockSize
                    + " values; size it with bytesFor(numel)");
        }
        return blockBytes;
    }

    /** Values per storage block: 1 for element types, 32 for {@link #Q8_0}. */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per storage block (for an element type, {@link #byteSize()}). */
    public int blockBytes() {
        return blockBytes;
    }

    /** Whether values are stored in blocks of several values with a shared scale. */
    public boolean isQuantized() {
        return blockSize != 1;
    }

    /**
     * Bytes taken by {@code numel} values (for a block type, a whole number of blocks).
     *
     * @throws IllegalArgumentException when numel is negative, not a whole number of blocks, or the bytes
     *                                  overflow a long
     */
    public long bytesFor(long numel) {
        if (numel < 0 || numel % blockSize != 0) {
            throw new IllegalArgumentException(this + ": " + numel + " values are not a whole number of blocks of "
                    + blockSize);
        }
        try {
            return Math.multiplyExact(numel / blockSize, (long) blockBytes);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(this + ": " + numel + " values take more bytes than a long holds");
        }
    }

    /**
     * Whether values of this type are stored one per element as floating point (F32, BF16, F16). I32 is not,
     * nor is the block-quantized {@link #Q8_0}, which only {@code linear} weights may use.
     */
    public boolean isFloating() {
        return this == F32 || this == BF16 || this == F16;
    }

    /**
     * The type named the way safetensors headers name it ({@code F32}, {@code BF16}, {@code F16},
     * {@code I32}, and our {@code Q8_0}).
     *
     * @throws IllegalArgumentException naming the value when it is not one of ours
     */
    public static DType fromSafetensorsName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported dtype '" + name + "' (supported: F32, BF16, F16, I32, Q8_0)");
    }
}
