package io.dcformer4j.model;

import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteOrder;
import java.nio.file.Path;

/** Access to the golden tiny model in test resources and error measures for comparing logits. */
final class TestData {
    private TestData() {
    }

    /** The directory of the official tiny DCFormer++ model and its reference outputs. */
    static Path goldenDir() {
        try {
            return Path.of(TestData.class.getResource("/golden/dcformer_tiny/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An F32 tensor of reference.safetensors, flattened. */
    static float[] reference(String name) {
        try (WeightSource src = WeightSource.open(goldenDir().resolve("reference.safetensors"))) {
            MemorySegment seg = src.data(name);
            return seg.toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        }
    }

    /** The I32 input tokens of the reference run. */
    static int[] referenceTokens() {
        try (WeightSource src = WeightSource.open(goldenDir().resolve("reference.safetensors"))) {
            return src.data("tokens").toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        }
    }

    static float[] flatten(float[][] rows) {
        int cols = rows[0].length;
        float[] out = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * cols, cols);
        }
        return out;
    }

    /** ||actual − expected|| / ||expected||. */
    static double relL2(float[] actual, float[] expected) {
        check(actual, expected);
        double num = 0;
        double den = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    /** max |actual − expected|. */
    static double maxAbs(float[] actual, float[] expected) {
        check(actual, expected);
        double m = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    private static void check(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError("length " + actual.length + " != expected " + expected.length);
        }
    }
}
