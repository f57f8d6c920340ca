package io.dcformer4j.conformance;

import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The golden tiny DCFormer++ model shipped in this jar ({@code golden/dcformer_tiny}: official-reference
 * outputs, see its README in the project's shared data), unpacked into a temporary directory the model
 * loader can read: one directory with the F32 weights and one with the BF16 weights, each as
 * {@code model.safetensors} beside {@code config.json}.
 */
final class GoldenModel implements AutoCloseable {
    private static final String RESOURCES = "/golden/dcformer_tiny/";

    final Path root;
    final Path f32Dir;
    final Path bf16Dir;
    final int[] tokens;
    final int vocab;

    GoldenModel() {
        try {
            root = Files.createTempDirectory("dcformer4j-tck-golden");
            f32Dir = Files.createDirectories(root.resolve("f32"));
            bf16Dir = Files.createDirectories(root.resolve("bf16"));
            copy("config.json", f32Dir.resolve("config.json"));
            copy("config.json", bf16Dir.resolve("config.json"));
            copy("model.safetensors", f32Dir.resolve("model.safetensors"));
            copy("model.bf16.safetensors", bf16Dir.resolve("model.safetensors"));
            copy("reference.safetensors", root.resolve("reference.safetensors"));
        } catch (IOException e) {
            throw new UncheckedIOException("unpacking the golden model from the kit's resources " + RESOURCES, e);
        }
        try (WeightSource ref = reference()) {
            tokens = ints(ref, "tokens");
            vocab = ref.tensors().get("prefill_logits").shape().dim(1);
        }
    }

    private static void copy(String name, Path target) throws IOException {
        try (InputStream in = GoldenModel.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCES + name + " is missing from the conformance kit");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private WeightSource reference() {
        return WeightSource.open(root.resolve("reference.safetensors"));
    }

    /** A reference tensor of logits as rows. */
    float[][] logits(String name) {
        try (WeightSource ref = reference()) {
            TensorInfo info = ref.tensors().get(name);
            if (info == null) {
                throw new IllegalStateException("reference.safetensors has no tensor '" + name + "'");
            }
            int rows = info.shape().dim(0);
            int cols = info.shape().dim(1);
            MemorySegment data = ref.data(name);
            float[][] out = new float[rows][cols]; // [T, V]
            for (int t = 0; t < rows; t++) {
                for (int v = 0; v < cols; v++) {
                    out[t][v] = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), (long) t * cols + v);
                }
            }
            return out;
        }
    }

    /** The reference's residual stream after every layer, [layers][positions][E] (layer{N}_out, F32 weights). */
    float[][][] layerOutputs(int layers) {
        float[][][] out = new float[layers][][];
        for (int l = 0; l < layers; l++) {
            out[l] = logits("layer" + l + "_out");
        }
        return out;
    }

    private static int[] ints(WeightSource ref, String name) {
        MemorySegment data = ref.data(name);
        int n = Math.toIntExact(ref.tensors().get(name).shape().numel());
        int[] out = new int[n]; // [n]
        for (int i = 0; i < n; i++) {
            out[i] = data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
        }
        return out;
    }

    /**
     * Fails unless {@code actual} matches {@code expected} within the golden bounds (relative L2 error and
     * max absolute error over all positions and vocabulary entries).
     */
    static void assertMatches(String what, float[][] actual, float[][] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": " + actual.length + " rows of logits, expected " + expected.length);
        }
        double diff2 = 0;
        double ref2 = 0;
        double maxAbs = -1;
        int worstT = -1;
        int worstV = -1;
        for (int t = 0; t < expected.length; t++) {
            if (actual[t].length != expected[t].length) {
                throw new AssertionError(what + ": row " + t + " has " + actual[t].length + " logits, expected " + expected[t].length);
            }
            for (int v = 0; v < expected[t].length; v++) {
                double d = (double) actual[t][v] - expected[t][v];
                double abs = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.abs(d);
                diff2 += d * d;
                ref2 += (double) expected[t][v] * expected[t][v];
                if (abs > maxAbs) {
                    maxAbs = abs;
                    worstT = t;
                    worstV = v;
                }
            }
        }
        double relL2 = Math.sqrt(diff2 / ref2);
        if (!(relL2 < Tolerances.GOLDEN_REL_L2) || !(maxAbs < Tolerances.GOLDEN_MAX_ABS)) {
            throw new AssertionError(what + ": relative L2 error " + relL2 + " (bound " + Tolerances.GOLDEN_REL_L2 + "), max |difference| "
                    + maxAbs + " (bound " + Tolerances.GOLDEN_MAX_ABS + ") at position " + worstT + ", token " + worstV + ": backend "
                    + actual[worstT][worstV] + ", reference " + expected[worstT][worstV] + " (" + Tolerances.GOLDEN_REASON + ")");
        }
    }

    /** Rows {@code from .. to−1}. */
    static float[][] rows(float[][] a, int from, int to) {
        return Arrays.copyOfRange(a, from, to);
    }

    @Override
    public void close() {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + root, e);
        }
    }
}
