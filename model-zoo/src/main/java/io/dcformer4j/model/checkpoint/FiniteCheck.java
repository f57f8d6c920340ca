package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * Finds weights that are NaN or infinite. A checkpoint holding them loads and runs without complaint, and its
 * logits then turn non-finite and sampling yields nothing useful; scanning before use (the {@code convert} and
 * {@code inspect --check} commands do) names the tensor instead. The scan reads every byte of every floating
 * point tensor once, in name order, and stops at the first non-finite element; integer tensors are skipped.
 */
public final class FiniteCheck {

    /**
     * The first non-finite element found.
     *
     * @param tensor  its tensor's name
     * @param dtype   the tensor's storage type
     * @param shape   the tensor's shape
     * @param element its flat (row-major) index in the tensor
     * @param value   the value, widened to F32 (NaN, +Infinity or -Infinity)
     */
    public record NonFinite(String tensor, DType dtype, Shape shape, long element, float value) {

        /** The element's index per axis, for example {@code [3, 17]}. */
        public long[] index() {
            long[] idx = new long[shape.rank()];
            long rest = element;
            for (int d = idx.length - 1; d >= 0; d--) {
                idx[d] = rest % shape.dim(d);
                rest /= shape.dim(d);
            }
            return idx;
        }

        /** One line naming the tensor, the element and the value. */
        public String describe() {
            return "tensor '" + tensor + "' " + dtype + shape + " holds " + value + " at element " + element
                    + " (index " + Arrays.toString(index()) + ")";
        }
    }

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    // An IEEE value is NaN or infinite exactly when its exponent bits are all ones.
    private static final int F32_EXPONENT = 0x7F80_0000;
    private static final int F16_EXPONENT = 0x7C00;
    private static final int BF16_EXPONENT = 0x7F80;

    private FiniteCheck() {
    }

    /** The first non-finite element of any tensor of the source (tensors in name order), or empty. */
    public static Optional<NonFinite> firstNonFinite(WeightSource source) {
        for (TensorInfo t : source.tensors().values()) {
            Optional<NonFinite> found = firstNonFinite(t, source.data(t.name()));
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /** The first non-finite element of one tensor's little-endian bytes, or empty (always empty for I32). */
    public static Optional<NonFinite> firstNonFinite(TensorInfo t, MemorySegment data) {
        long at = switch (t.dtype()) {
            case F32 -> firstF32(data);
            case F16 -> first16(data, F16_EXPONENT);
            case BF16 -> first16(data, BF16_EXPONENT);
            case I32 -> -1;
            case Q8_0 -> firstQ8Scale(data);
        };
        if (at < 0) {
            return Optional.empty();
        }
        float value = switch (t.dtype()) {
            case F16 -> Numerics.f16ToFloat(data.get(LE_SHORT, 2 * at));
            case BF16 -> Numerics.bf16ToFloat(data.get(LE_SHORT, 2 * at));
            case Q8_0 -> Q8_0Format.scale(data, 0, at / Q8_0Format.BLOCK);
            default -> Float.intBitsToFloat(data.get(LE_INT, 4 * at));
        };
        return Optional.of(new NonFinite(t.name(), t.dtype(), t.shape(), at, value));
    }

    /** Index of the first element of the first Q8_0 block whose F16 scale is infinite or NaN, or -1. */
    private static long firstQ8Scale(MemorySegment data) {
        long blocks = data.byteSize() / Q8_0Format.BLOCK_BYTES;
        for (long b = 0; b < blocks; b++) {
            if ((data.get(LE_SHORT, b * Q8_0Format.BLOCK_BYTES) & F16_EXPONENT) == F16_EXPONENT) {
                return b * Q8_0Format.BLOCK;
            }
        }
        return -1;
    }

    /** Index of the first F32 element with an all-ones exponent, or -1. */
    private static long firstF32(MemorySegment data) {
        long n = data.byteSize() / 4;
        for (long i = 0; i < n; i++) {
            if ((data.get(LE_INT, 4 * i) & F32_EXPONENT) == F32_EXPONENT) {
                return i;
            }
        }
        return -1;
    }

    /** Index of the first 16-bit element whose exponent field (given as a mask) is all ones, or -1. */
    private static long first16(MemorySegment data, int exponent) {
        long n = data.byteSize() / 2;
        for (long i = 0; i < n; i++) {
            if ((data.get(LE_SHORT, 2 * i) & exponent) == exponent) {
                return i;
            }
        }
        return -1;
    }
}
