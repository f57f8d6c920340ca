package io.dcformer4j.api;

/**
 * Rotary position embedding parameters (spec §1.4): half-layout pairing of component j with
 * j + rotaryDim/2, only the first {@code rotaryDim} components of each head rotated, frequencies
 * {@code base^(-2j/rotaryDim)} and angles {@code position * invFreq} computed in float32, unrounded.
 *
 * @param headDim   D, the size of one head vector
 * @param rotaryDim Dr, even, at most D
 * @param base      the RoPE base ({@code rope_base})
 */
public record RopeSpec(int headDim, int rotaryDim, double base) {
    /** Validates the fields. */
    public RopeSpec {
        if (headDim <= 0) {
            throw new IllegalArgumentException("RoPE headDim must be positive, got " + headDim);
        }
        if (rotaryDim < 0 || rotaryDim > headDim || rotaryDim % 2 != 0) {
            throw new IllegalArgumentException("RoPE rotaryDim must be even and in [0, " + headDim + "], got " + rotaryDim);
        }
        if (!(base > 0) || Double.isInfinite(base)) {
            throw new IllegalArgumentException("RoPE base must be positive and finite, got " + base);
        }
    }

    /** The inverse frequency of pair j as the reference computes it (float32). */
    public float invFreq(int j) {
        return (float) (1.0 / Math.pow(base, (2.0 * j) / rotaryDim));
    }
}
