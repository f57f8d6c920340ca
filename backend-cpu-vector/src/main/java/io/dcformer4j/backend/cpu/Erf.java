package io.dcformer4j.backend.cpu;

/**
 * The error function and exact GELU. erf is evaluated in double precision: for |x| &lt; 4 by the
 * everywhere-convergent series {@code erf(x) = 2/√π · e^(−x²) · Σ x(2x²)ⁿ/(2n+1)!!}, whose terms are
 * all positive (no cancellation, relative error near 1e-16), and above by the asymptotic expansion of
 * erfc, whose truncation error there is below 1e-12.
 */
final class Erf {
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);
    private static final double ONE_OVER_SQRT_PI = 1.0 / Math.sqrt(Math.PI);
    private static final double ONE_OVER_SQRT2 = 1.0 / Math.sqrt(2.0);

    private Erf() {
    }

    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 4.0) {
            double x2 = ax * ax;
            double term = ax;
            double sum = ax;
            for (int n = 1; n < 200; n++) {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
                if (term < 1e-17 * sum) {
                    break;
                }
            }
            r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
        } else if (ax < 6.0) {
            double x2 = ax * ax;
            double inv = 1.0 / (2 * x2);
            // 1 − 1/(2x²) + 3/(2x²)² − 15/(2x²)³ + 105/(2x²)⁴ − 945/(2x²)⁵
            double series = 1 - inv * (1 - 3 * inv * (1 - 5 * inv * (1 - 7 * inv * (1 - 9 * inv))));
            r = 1 - Math.exp(-x2) * ONE_OVER_SQRT_PI / ax * series;
        } else {
            r = 1.0;
        }
        return Math.copySign(r, x);
    }

    /** Exact GELU, z·½(1 + erf(z/√2)). */
    static float gelu(float z) {
        return (float) (z * 0.5 * (1.0 + erf(z * ONE_OVER_SQRT2)));
    }
}
