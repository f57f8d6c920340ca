package io.dcformer4j.conformance;

/**
 * An allowed difference between a backend's float32 result and the float64 oracle: an element passes when
 * {@code |actual − expected| ≤ abs + rel · scale}, where scale is |expected| unless the test supplies the
 * magnitude of the terms that were summed (see {@link Oracle#linearMagnitude}).
 *
 * @param abs    absolute allowance
 * @param rel    allowance per unit of scale
 * @param reason why this number, shown in failure messages
 */
public record Tolerance(double abs, double rel, String reason) {
    /** Whether {@code actual} is close enough to {@code expected} given the element's scale. */
    public boolean accepts(double actual, double expected, double scale) {
        if (Double.isNaN(expected)) {
            return Double.isNaN(actual);
        }
        if (Double.isInfinite(expected)) {
            return actual == expected;
        }
        if (!Double.isFinite(actual)) {
            return false;
        }
        return Math.abs(actual - expected) <= allowed(scale);
    }

    /** The allowed difference at a given scale. */
    public double allowed(double scale) {
        return abs + rel * Math.abs(scale);
    }
}
