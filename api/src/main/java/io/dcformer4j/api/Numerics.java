package io.dcformer4j.api;

/** Conversions between F32 and the 16-bit storage types, shared by backends and loaders. */
public final class Numerics {
    private Numerics() {
    }

    /** bfloat16 bits to float (exact). */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** float to bfloat16 bits, rounding to nearest even; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** IEEE binary16 bits to float (exact). */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** float to IEEE binary16 bits, rounding to nearest even. */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** Rounds a float to the nearest value representable in {@code dtype} (identity for F32). */
    public static float roundTo(DType dtype, float f) {
        return switch (dtype) {
            case F32 -> f;
            case BF16 -> bf16ToFloat(floatToBf16(f));
            case F16 -> f16ToFloat(floatToF16(f));
            case I32 -> throw new IllegalArgumentException("I32 is not a floating type");
            case Q8_0 -> throw new IllegalArgumentException("Q8_0 rounds a block at a time (Q8_0Format.rounded), "
                    + "not one value");
        };
    }
}
