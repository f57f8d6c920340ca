package io.dcformer4j.conformance;

import java.util.Arrays;

/**
 * Element-wise comparison of a backend's result with the oracle, failing with the worst element, its
 * multi-dimensional index, the allowance and the reason for the tolerance.
 */
public final class Check {
    private Check() {
    }

    /** Compares with the scale of each element taken as |expected|. */
    public static void close(String what, int[] shape, float[] actual, double[] expected, Tolerance tolerance) {
        close(what, shape, actual, expected, null, tolerance);
    }

    /**
     * Compares element by element; NaN must meet NaN, and a finite expectation needs a finite result.
     *
     * @param scale per-element magnitude for the relative allowance, or null for |expected|
     */
    public static void close(String what, int[] shape, float[] actual, double[] expected, double[] scale, Tolerance tolerance) {
        compare(what, shape, actual, "backend", expected, "the float64 oracle", "oracle", scale, tolerance);
    }

    private static void compare(String what, int[] shape, float[] actual, String actualName, double[] expected, String expectedName,
                                String expectedShort, double[] scale, Tolerance tolerance) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": backend returned " + actual.length + " values, expected " + expected.length
                    + " for shape " + Arrays.toString(shape));
        }
        int bad = 0;
        int worst = -1;
        double worstExcess = -1;
        for (int i = 0; i < actual.length; i++) {
            double s = scale == null ? expected[i] : scale[i];
            if (!tolerance.accepts(actual[i], expected[i], s)) {
                bad++;
                double excess = Double.isFinite(actual[i]) && Double.isFinite(expected[i])
                        ? Math.abs(actual[i] - expected[i]) / Math.max(tolerance.allowed(s), Double.MIN_NORMAL)
                        : Double.POSITIVE_INFINITY;
                if (excess > worstExcess) {
                    worstExcess = excess;
                    worst = i;
                }
            }
        }
        if (bad > 0) {
            double s = scale == null ? expected[worst] : scale[worst];
            throw new AssertionError(what + ": " + bad + " of " + actual.length + " elements of " + actualName + " differ from "
                    + expectedName + "; worst at " + Arrays.toString(unravel(worst, shape)) + " of shape " + Arrays.toString(shape)
                    + ": " + actualName + " " + actual[worst] + ", " + expectedShort + " " + expected[worst]
                    + ", |difference| " + Math.abs(actual[worst] - expected[worst]) + " > allowed " + tolerance.allowed(s)
                    + " (abs " + tolerance.abs() + " + rel " + tolerance.rel() + " × scale " + Math.abs(s) + "; " + tolerance.reason() + ")");
        }
    }

    /**
     * Compares two results of the backend under test (for example 7 workers with 1 worker, decode with
     * prefill, a concurrent run with the solo run); the message names both runs.
     *
     * @param actualName    what produced {@code actual} ("7 workers")
     * @param referenceName what produced {@code reference} ("1 worker")
     */
    public static void agree(String what, int[] shape, float[] actual, String actualName, float[] reference, String referenceName,
                             Tolerance tolerance) {
        double[] expected = new double[reference.length]; // same shape as reference
        for (int i = 0; i < reference.length; i++) {
            expected[i] = reference[i];
        }
        compare(what, shape, actual, actualName, expected, referenceName, referenceName, null, tolerance);
    }

    /** The index of a flat position in a row-major shape. */
    static int[] unravel(int flat, int[] shape) {
        int[] index = new int[shape.length];
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            int dim = Math.max(1, shape[axis]);
            index[axis] = flat % dim;
            flat /= dim;
        }
        return index;
    }
}
