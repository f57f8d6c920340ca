package io.dcformer4j.conformance;

/**
 * The error function in double precision, for the oracle's exact GELU. Two classical expansions that need
 * no tabulated coefficients: a series of positive terms for small arguments (no cancellation), and the
 * Laplace continued fraction for the tail, where the series would need many terms.
 */
public final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double SERIES_LIMIT = 4.0;

    private Erf() {
    }

    /** erf(x), accurate to a few units in the last place of a double. */
    public static double erf(double x) {
        if (Double.isNaN(x)) {
            return Double.NaN;
        }
        if (x < 0) {
            return -erf(-x);
        }
        return x < SERIES_LIMIT ? series(x) : 1.0 - tailErfc(x);
    }

    /** erfc(x) = 1 − erf(x), keeping its relative accuracy for large positive x. */
    public static double erfc(double x) {
        if (Double.isNaN(x)) {
            return Double.NaN;
        }
        if (x < 0) {
            return 2.0 - erfc(-x);
        }
        return x < SERIES_LIMIT ? 1.0 - series(x) : tailErfc(x);
    }

    /** erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)); every term is positive. */
    private static double series(double x) {
        double x2 = x * x;
        double term = x;
        double sum = x;
        for (int n = 1; n < 500; n++) {
            term *= 2.0 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
    }

    /**
     * erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))) for x ≥ 4, evaluated
     * backwards from a fixed depth (ample: the fraction converges fast for x ≥ 4).
     */
    private static double tailErfc(double x) {
        if (Double.isInfinite(x)) {
            return 0.0;
        }
        double f = x;
        for (int k = 120; k >= 1; k--) {
            f = x + (k / 2.0) / f;
        }
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
