package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;

import java.util.Random;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.assertThat;

/** Random inputs and tolerance checks shared by the tests. */
final class TestData {
    private TestData() {
    }

    /** Uniform values in [−scale, scale], rounded to {@code dtype} so the oracle sees the stored values. */
    static float[] random(Random rnd, int n, float scale, DType dtype) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = Numerics.roundTo(dtype, (rnd.nextFloat() * 2 - 1) * scale);
        }
        return a;
    }

    /**
     * Skips the calling test where the vector width forced by {@value VectorProbe#BITS_PROPERTY} (the pom's 256- and
     * 128-bit runs) is wider than this CPU's: such a width cannot be tested here.
     */
    static void assumeForcedWidthFitsThisCpu() {
        String forced = System.getProperty(VectorProbe.BITS_PROPERTY);
        Assumptions.assumeTrue(forced == null || forced.isBlank()
                || Integer.parseInt(forced.trim()) <= FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                "this CPU's vectors are narrower than " + forced + " bits");
    }

    static float[] random(Random rnd, int n, float scale) {
        return random(rnd, n, scale, DType.F32);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** |actual − expected| ≤ atol + rtol·|expected| everywhere, with the first offending index in the message. */
    static void assertClose(String what, float[] actual, double[] expected, double atol, double rtol) {
        assertThat(actual).as(what + " length").hasSize(expected.length);
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= atol + rtol * Math.abs(expected[i]))) {
                throw new AssertionError(what + ": index " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (|error| " + err + ")");
            }
        }
    }
}
