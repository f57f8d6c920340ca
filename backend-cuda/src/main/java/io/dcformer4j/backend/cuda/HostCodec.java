package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian encoding of host arrays into device storage types and back. */
final class HostCodec {
    private HostCodec() {
    }

    /** {@code values} rounded to {@code dtype} (F32, BF16, F16) or quantized to Q8_0 blocks, as raw bytes. */
    static byte[] encode(DType dtype, float[] values) {
        if (dtype == DType.Q8_0) {
            return Q8_0Format.quantize(values);
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            switch (dtype) {
                case F32 -> b.putFloat(v);
                case BF16 -> b.putShort(Numerics.floatToBf16(v));
                case F16 -> b.putShort(Numerics.floatToF16(v));
                case I32 -> b.putInt((int) v);
                case Q8_0 -> throw new IllegalStateException("Q8_0 is encoded by blocks above");
            }
        }
        return b.array();
    }

    /** Raw bytes of {@code dtype} widened to floats (Q8_0: d · q of every block). */
    static float[] decode(DType dtype, byte[] bytes) {
        if (dtype == DType.Q8_0) {
            return Q8_0Format.dequantize(bytes);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.length / dtype.byteSize()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (dtype) {
                case F32 -> b.getFloat();
                case BF16 -> Numerics.bf16ToFloat(b.getShort());
                case F16 -> Numerics.f16ToFloat(b.getShort());
                case I32 -> b.getInt();
                case Q8_0 -> throw new IllegalStateException("Q8_0 is decoded by blocks above");
            };
        }
        return out;
    }

    /** Ints as little-endian bytes. */
    static byte[] encodeInts(int[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return b.array();
    }

    /** Longs as little-endian bytes (the batched decode's row table). */
    static byte[] encodeLongs(long[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    /** Little-endian bytes as ints. */
    static int[] decodeInts(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int[] out = new int[bytes.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getInt();
        }
        return out;
    }
}
