package io.dcformer4j.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The {@link DType#Q8_0} block format and its reference quantizer, written once so that the conformance
 * oracle, the backends, the model loader and the converter agree to the bit.
 *
 * <p>Layout (llama.cpp's {@code block_q8_0}): the values of a tensor, in row-major order, are cut into blocks
 * of {@value #BLOCK} consecutive values of the last axis (which must be a multiple of 32, so a block never
 * straddles two rows); each block is stored as a little-endian IEEE binary16 scale d followed by 32 signed
 * bytes q, {@value #BLOCK_BYTES} bytes, and stands for the values d · q (exact in F32: an 11-bit by 8-bit
 * product).
 *
 * <p>Quantization of one block x: d = F16(max|x| / 127) (rounded to nearest, ties to even), then
 * q = round(x / d) with halves rounded away from zero, clamped to ±127 (0 when d is 0). The division is by the
 * F16 scale actually stored. llama.cpp's {@code quantize_row_q8_0_ref} computes the same d and stores it as
 * F16, but rounds x · (1 / d) with the F32 scale before its rounding to F16, so its q can differ by one from
 * ours where the two scales put x near a half; ours minimises |x − d·q| for the stored d, and both read
 * each other's files the same way (the block layout is identical).
 */
public final class Q8_0Format {
    /** Values per block. */
    public static final int BLOCK = 32;
    /** Bytes per block: an F16 scale and 32 signed bytes. */
    public static final int BLOCK_BYTES = 34;
    /** The largest |q|. */
    private static final int QMAX = 127;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q8_0Format() {
    }

    /**
     * Fails unless the last axis of {@code shape} is a positive multiple of {@value #BLOCK}.
     *
     * @param what names the tensor in the message (for example {@code "linear: w tensor 'wo' Q8_0 [64, 40]"})
     */
    public static void requireBlocks(Shape shape, String what) {
        int cols = shape.rank() == 0 ? 1 : shape.dim(shape.rank() - 1);
        if (cols % BLOCK != 0 || cols == 0) {
            throw new IllegalArgumentException(what + ": Q8_0 needs the last axis to be a multiple of " + BLOCK
                    + ", shape " + shape + " has " + cols);
        }
    }

    /**
     * Quantizes {@code n} values of {@code src} from {@code srcOffset} (n a multiple of 32) into
     * {@code n / 32} blocks at byte offset {@code dstOffset} of {@code dst}.
     *
     * @throws IllegalArgumentException when a value is NaN or infinite, or a block's scale overflows F16
     *                                  (|x| above 65504 · 127), naming the value's index
     */
    public static void quantize(float[] src, int srcOffset, int n, MemorySegment dst, long dstOffset) {
        if (n % BLOCK != 0) {
            throw new IllegalArgumentException("Q8_0: " + n + " values are not a whole number of blocks of " + BLOCK);
        }
        for (int b = 0; b < n / BLOCK; b++) {
            int from = srcOffset + b * BLOCK;
            float amax = 0f;
            for (int j = 0; j < BLOCK; j++) {
                float x = src[from + j];
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException("Q8_0: value " + x + " at index " + (from + j - srcOffset)
                            + " cannot be quantized");
                }
                amax = Math.max(amax, Math.abs(x));
            }
            short dBits = Float.floatToFloat16(amax / QMAX);
            float d = Float.float16ToFloat(dBits);
            if (Float.isInfinite(d)) {
                throw new IllegalArgumentException("Q8_0: the block at index " + (from - srcOffset) + " has max |x| = "
                        + amax + ", whose scale overflows F16");
            }
            long at = dstOffset + (long) b * BLOCK_BYTES;
            dst.set(F16, at, dBits);
            for (int j = 0; j < BLOCK; j++) {
                dst.set(ValueLayout.JAVA_BYTE, at + 2 + j, d == 0f ? 0 : quant(src[from + j] / d));
            }
        }
    }

    /** {@code values} (a whole number of blocks) quantized into a new array of blocks. */
    public static byte[] quantize(float[] values) {
        byte[] out = new byte[Math.toIntExact(DType.Q8_0.bytesFor(values.length))];
        quantize(values, 0, values.length, MemorySegment.ofArray(out), 0);
        return out;
    }

    /** x / d rounded half away from zero (exact in double: |v| ≤ 128), clamped to ±127. */
    private static byte quant(float v) {
        double r = Math.floor(Math.abs((double) v) + 0.5);
        int q = (int) Math.min(r, QMAX);
        return (byte) (v < 0 ? -q : q);
    }

    /** The scale of block {@code block} of the blocks at byte offset {@code base}. */
    public static float scale(MemorySegment blocks, long base, long block) {
        return Float.float16ToFloat(blocks.get(F16, base + block * BLOCK_BYTES));
    }

    /** Value {@code elem} (in row-major order) of the blocks at byte offset {@code base}: d · q. */
    public static float get(MemorySegment blocks, long base, long elem) {
        long block = elem / BLOCK;
        byte q = blocks.get(ValueLayout.JAVA_BYTE, base + block * BLOCK_BYTES + 2 + elem % BLOCK);
        return scale(blocks, base, block) * q;
    }

    /** Values [elem, elem + n) of the blocks at byte offset {@code base}, into dst[dstOffset ..). */
    public static void dequantize(MemorySegment blocks, long base, long elem, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = get(blocks, base, elem + i);
        }
    }

    /** All values of {@code blocks} (a whole number of blocks), dequantized. */
    public static float[] dequantize(byte[] blocks) {
        if (blocks.length % BLOCK_BYTES != 0) {
            throw new IllegalArgumentException("Q8_0: " + blocks.length + " bytes are not a whole number of blocks of "
                    + BLOCK_BYTES);
        }
        float[] out = new float[blocks.length / BLOCK_BYTES * BLOCK];
        dequantize(MemorySegment.ofArray(blocks), 0, 0, out, 0, out.length);
        return out;
    }

    /** {@code values} as Q8_0 would store them (quantized, then dequantized). */
    public static float[] rounded(float[] values) {
        return dequantize(quantize(values));
    }
}
