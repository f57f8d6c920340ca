package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Quantizes a float checkpoint tensor (F32, BF16 or F16, row-major [rows, cols], cols a multiple of 32) to
 * {@link DType#Q8_0} blocks with the reference quantizer {@link Q8_0Format}, rows in parallel (each row's
 * blocks depend on that row alone, so the result does not depend on the threads).
 */
public final class Q8Quantizer {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Q8Quantizer() {
    }

    /**
     * The Q8_0 blocks of {@code data} (tensor {@code name} of {@code dtype} and {@code shape}), allocated in
     * {@code arena}.
     *
     * @throws IllegalArgumentException naming the tensor when it is not a float matrix of whole blocks, or a
     *                                  value cannot be quantized (NaN, infinite)
     */
    public static MemorySegment quantize(String name, DType dtype, Shape shape, MemorySegment data, Arena arena) {
        if (!dtype.isFloating() || shape.rank() < 1) {
            throw new IllegalArgumentException("tensor '" + name + "' " + dtype + " " + shape + " cannot be quantized to Q8_0");
        }
        Q8_0Format.requireBlocks(shape, "tensor '" + name + "' " + dtype + " " + shape);
        int cols = shape.dim(-1);
        int rows = Math.toIntExact(shape.numel() / cols);
        long rowBytes = DType.Q8_0.bytesFor(cols);
        MemorySegment out = arena.allocate(rowBytes * rows, 8); // [rows, cols / 32] blocks
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] row = new float[cols]; // [cols]
            long at = (long) r * cols;
            for (int i = 0; i < cols; i++) {
                row[i] = switch (dtype) {
                    case F32 -> data.getAtIndex(F32, at + i);
                    case BF16 -> Numerics.bf16ToFloat(data.getAtIndex(I16, at + i));
                    case F16 -> Numerics.f16ToFloat(data.getAtIndex(I16, at + i));
                    case I32, Q8_0 -> throw new IllegalStateException(dtype.name());
                };
            }
            try {
                Q8_0Format.quantize(row, 0, cols, out, r * rowBytes);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("tensor '" + name + "' row " + r + ": " + e.getMessage(), e);
            }
        });
        return out;
    }
}
