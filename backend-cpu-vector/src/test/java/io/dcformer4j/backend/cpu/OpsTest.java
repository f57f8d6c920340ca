package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static io.dcformer4j.backend.cpu.TestData.assertClose;
import static io.dcformer4j.backend.cpu.TestData.random;
import static io.dcformer4j.backend.cpu.TestData.toDouble;
import static org.assertj.core.api.Assertions.assertThat;

/** Every non-attention operation against the double-precision oracle, on awkward sizes. */
class OpsTest {
    private static final int[] SIZES = {1, 3, 7, 17, 63, 65, 1000};
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = new CpuBackendProvider().open(BackendOptions.withThreads(2));
    }

    @AfterAll
    static void close() {
        assertThat(backend.liveTensors()).as("tensors leaked by the tests").isZero();
        backend.close();
    }

    /** A weight tensor over a little-endian native segment, the way a loader passes an mmapped checkpoint. */
    static Tensor mapped(Backend b, Arena arena, DType dtype, Shape shape, float[] values, String label) {
        MemorySegment seg = arena.allocate((long) values.length * dtype.byteSize(), 2);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case F32 -> seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i, values[i]);
                case BF16 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i,
                        io.dcformer4j.api.Numerics.floatToBf16(values[i]));
                case F16 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i,
                        Float.floatToFloat16(values[i]));
                case I32 -> throw new IllegalArgumentException();
            }
        }
        return b.weights(dtype, shape, seg, label);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void linearMatchesOracleForEveryWeightType(DType dtype) {
        Random rnd = new Random(11 + dtype.ordinal());
        int[][] shapes = {{1, 1, 1}, {1, 3, 7}, {3, 7, 17}, {5, 17, 63}, {1, 65, 1000}, {7, 1000, 65}, {2, 63, 3}, {17, 64, 33}, {200, 400, 1000}, {9, 1000, 500}, {4, 200, 37}};
        try (Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int t = s[0];
                int in = s[1];
                int out = s[2];
                float[] x = random(rnd, t * in, 1f);
                float[] w = random(rnd, out * in, 1f, dtype);
                float[] bias = random(rnd, out, 1f, dtype);
                for (boolean withBias : new boolean[] {false, true}) {
                    try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(t, in), x, "x");
                         Tensor wt = mapped(backend, arena, dtype, Shape.of(out, in), w, "w");
                         Tensor bt = backend.fromFloats(dtype, Shape.of(out), bias, "bias");
                         Tensor ot = backend.allocate(DType.F32, Shape.of(t, out), "out")) {
                        backend.linear(xt, wt, withBias ? bt : null, ot);
                        double[] expected = Oracle.linear(toDouble(x), toDouble(w), withBias ? toDouble(bias) : null, t, in, out);
                        assertClose("linear " + dtype + " " + t + "x" + in + "->" + out, ot.toFloatArray(), expected,
                                1e-5 * Math.sqrt(in) * 4, 1e-5);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void embeddingWidensRowsOfEveryType(DType dtype) {
        Random rnd = new Random(3);
        for (int e : SIZES) {
            int v = 5;
            float[] table = random(rnd, v * e, 2f, dtype);
            int[] tokens = {4, 0, 2, 2};
            try (Tensor tt = backend.fromFloats(dtype, Shape.of(v, e), table, "table");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(tokens.length, e), "out")) {
                backend.embedding(tt, tokens, ot);
                double[] expected = new double[tokens.length * e];
                for (int t = 0; t < tokens.length; t++) {
                    for (int i = 0; i < e; i++) {
                        expected[t * e + i] = table[tokens[t] * e + i];
                    }
                }
                assertClose("embedding " + dtype + " E=" + e, ot.toFloatArray(), expected, 0, 0);
            }
        }
    }

    @Test
    void f16WideningHandlesSubnormalsInfinitiesAndNegativeZero() {
        float[] special = {0f, -0f, 5.96e-8f, -6.1e-5f, 3.0e-5f, 65504f, -65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, 1f, -2.5f, 0.333f, 1e-7f, -1e-6f, 7f, 100f};
        float[] rounded = new float[special.length];
        for (int i = 0; i < special.length; i++) {
            rounded[i] = Float.float16ToFloat(Float.floatToFloat16(special[i]));
        }
        try (Tensor tt = backend.fromFloats(DType.F16, Shape.of(1, special.length), special, "table");
             Tensor ot = backend.allocate(DType.F32, Shape.of(1, special.length), "out")) {
            backend.embedding(tt, new int[] {0}, ot);
            float[] got = ot.toFloatArray();
            for (int i = 0; i < special.length; i++) {
                assertThat(Float.floatToRawIntBits(got[i])).as("element %d (%s)", i, special[i])
                        .isEqualTo(Float.floatToRawIntBits(rounded[i]));
            }
        }
    }

    @Test
    void rmsNormOverRowsAndOverHeadGroups() {
        Random rnd = new Random(5);
        for (int e : SIZES) {
            for (DType gt : new DType[] {DType.F32, DType.BF16}) {
                float[] x = random(rnd, 3 * e, 3f);
                float[] g = random(rnd, e, 1.5f, gt);
                try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(3, e), x, "x");
                     Tensor gain = backend.fromFloats(gt, Shape.of(e), g, "gain");
                     Tensor ot = backend.allocate(DType.F32, Shape.of(3, e), "out")) {
                    backend.rmsNorm(xt, gain, 1e-5f, ot);
                    assertClose("rmsNorm E=" + e, ot.toFloatArray(), Oracle.rmsNorm(toDouble(x), toDouble(g), 1e-5), 1e-6, 1e-5);
                    backend.rmsNorm(xt, gain, 1e-5f, xt);
                    assertClose("rmsNorm in place E=" + e, xt.toFloatArray(), Oracle.rmsNorm(toDouble(x), toDouble(g), 1e-5), 1e-6, 1e-5);
                }
            }
        }
        // qk-norm: one gain of D shared by all N heads of [T, N·D]
        float[] x = random(rnd, 2 * 3 * 17, 2f);
        float[] g = random(rnd, 17, 1f);
        try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(2, 3 * 17), x, "q");
             Tensor gain = backend.fromFloats(DType.F32, Shape.of(17), g, "q_norm");
             Tensor ot = backend.allocate(DType.F32, Shape.of(2, 3 * 17), "out")) {
            backend.rmsNorm(xt, gain, 1e-6f, ot);
            assertClose("qk-norm", ot.toFloatArray(), Oracle.rmsNorm(toDouble(x), toDouble(g), 1e-6), 1e-6, 1e-5);
        }
    }

    @Test
    void layerNormUsesPopulationVariance() {
        Random rnd = new Random(6);
        for (int e : SIZES) {
            float[] x = random(rnd, 2 * e, 3f);
            for (int i = 0; i < x.length; i++) {
                x[i] += 5f;
            }
            float[] g = random(rnd, e, 1.5f);
            float[] b = random(rnd, e, 1f);
            try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(2, e), x, "x");
                 Tensor gain = backend.fromFloats(DType.F32, Shape.of(e), g, "gain");
                 Tensor bias = backend.fromFloats(DType.F16, Shape.of(e), b, "bias");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(2, e), "out")) {
                backend.layerNorm(xt, gain, bias, 1e-5f, ot);
                double[] bd = toDouble(bias.toFloatArray());
                assertClose("layerNorm E=" + e, ot.toFloatArray(), Oracle.layerNorm(toDouble(x), toDouble(g), bd, 1e-5),
                        2e-5, 2e-5);
            }
        }
    }

    @Test
    void ropeRotatesHalfLayoutPairsAndPassesTheRest() {
        Random rnd = new Random(7);
        int[][] cases = {{8, 8, 3}, {10, 4, 2}, {6, 0, 1}, {64, 64, 2}, {34, 18, 3}};
        for (int[] c : cases) {
            int d = c[0];
            int dr = c[1];
            int heads = c[2];
            for (int start : new int[] {0, 1, 1000, 70000}) {
                int rows = 3;
                float[] x = random(rnd, rows * heads * d, 2f);
                RopeSpec spec = new RopeSpec(d, dr, 10000.0);
                try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(rows, heads * d), x, "q");
                     Tensor ot = backend.allocate(DType.F32, Shape.of(rows, heads * d), "out")) {
                    backend.rope(xt, start, spec, ot);
                    double[] expected = Oracle.rope(toDouble(x), rows, heads * d, start, d, dr, 10000.0);
                    assertClose("rope D=" + d + " Dr=" + dr + " start=" + start, ot.toFloatArray(), expected, 1e-5, 1e-5);
                    backend.rope(xt, start, spec, xt);
                    assertClose("rope in place", xt.toFloatArray(), expected, 1e-5, 1e-5);
                }
            }
        }
    }

    @Test
    void elementwiseOpsMatchOracle() {
        Random rnd = new Random(8);
        for (int n : SIZES) {
            float[] a = random(rnd, n, 12f);
            float[] b = random(rnd, n, 3f);
            try (Tensor at = backend.fromFloats(DType.F32, Shape.of(1, n), a, "a");
                 Tensor bt = backend.fromFloats(DType.F32, Shape.of(1, n), b, "b");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(1, n), "out")) {
                double[] sw = new double[n];
                double[] ge = new double[n];
                double[] sum = new double[n];
                for (int i = 0; i < n; i++) {
                    sw[i] = Oracle.silu(a[i]) * b[i];
                    ge[i] = Oracle.gelu(a[i]);
                    sum[i] = (double) a[i] + b[i];
                }
                backend.swiglu(at, bt, ot);
                assertClose("swiglu n=" + n, ot.toFloatArray(), sw, 1e-6, 2e-6);
                backend.gelu(at, ot);
                assertClose("gelu n=" + n, ot.toFloatArray(), ge, 1e-7, 2e-7);
                backend.add(at, bt, ot);
                assertClose("add n=" + n, ot.toFloatArray(), sum, 0, 1e-7);
                backend.add(at, bt, at);
                assertClose("add in place n=" + n, at.toFloatArray(), sum, 0, 1e-7);
            }
        }
    }

    @Test
    void geluIsExactErfFormNearZeroAndInTheTails() {
        float[] z = {0f, 1e-8f, -1e-3f, 0.5f, -0.5f, 1f, -1f, 2.5f, -3f, 4f, -5.5f, 6f, -6f, 8.3f, -9f, 20f, -30f};
        double[] expected = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            expected[i] = Oracle.gelu(z[i]);
        }
        try (Tensor zt = backend.fromFloats(DType.F32, Shape.of(z.length), z, "z");
             Tensor ot = backend.allocate(DType.F32, Shape.of(z.length), "out")) {
            backend.gelu(zt, ot);
            assertClose("gelu", ot.toFloatArray(), expected, 1e-9, 2e-7);
        }
        for (double x = -7; x <= 7; x += 0.01) {
            assertThat(Erf.erf(x)).as("erf(%s)", x).isCloseTo(Oracle.erf(x), org.assertj.core.data.Offset.offset(2e-9));
        }
    }

    @Test
    void softmaxRowsIncludingSingleElement() {
        Random rnd = new Random(9);
        for (int n : SIZES) {
            float[] x = random(rnd, 3 * n, 30f);
            try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(3, n), x, "x");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(3, n), "out")) {
                backend.softmax(xt, ot);
                assertClose("softmax n=" + n, ot.toFloatArray(), Oracle.softmaxRows(toDouble(x), n), 1e-7, 2e-6);
            }
        }
    }

    @Test
    void mgateScalesContiguousGroupsBySoftmaxedGates() {
        Random rnd = new Random(10);
        int[][] cases = {{1, 1}, {3, 3}, {7, 7}, {17, 63}, {65, 65}, {44, 5632}, {4, 1000}};
        for (int[] c : cases) {
            int groups = c[0];
            int f = c[1];
            if (f % groups != 0) {
                continue;
            }
            float[] u = random(rnd, 2 * f, 2f);
            float[] g = random(rnd, 2 * groups, 4f);
            try (Tensor ut = backend.fromFloats(DType.F32, Shape.of(2, f), u, "u");
                 Tensor gt = backend.fromFloats(DType.F32, Shape.of(2, groups), g, "g");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(2, f), "out")) {
                backend.mgate(ut, gt, ot);
                assertClose("mgate Mg=" + groups + " F=" + f, ot.toFloatArray(),
                        Oracle.mgate(toDouble(u), toDouble(g), 2, f, groups), 1e-7, 2e-6);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void dynamicWeightsMatchSpec(DType dtype) {
        Random rnd = new Random(12);
        int[][] cases = {{17, 3, 2, 1}, {65, 4, 2, 3}, {7, 1, 1, 2}, {33, 8, 2, 5}};
        for (int[] c : cases) {
            int e = c[0];
            int n = c[1];
            int rank = c[2];
            int t = c[3];
            int k = 2 * rank * n;
            float[] a = random(rnd, t * e, 1f);
            float[] dw1 = random(rnd, e * 4 * k, 0.5f, dtype);
            float[] qkw = random(rnd, 4 * k * 2 * rank * n, 0.5f, dtype);
            float[] dd = random(rnd, e * 4 * n, 0.3f, dtype);
            try (Tensor at = backend.fromFloats(DType.F32, Shape.of(t, e), a, "a");
                 Tensor w1 = backend.fromFloats(dtype, Shape.of(e, 1, 4, k), dw1, "dw1");
                 Tensor qk = backend.fromFloats(dtype, Shape.of(1, 4, k, 2 * rank, n), qkw, "qkw");
                 Tensor ddt = backend.fromFloats(dtype, Shape.of(e, 1, 4 * n), dd, "dd");
                 Tensor ot = backend.allocate(DType.F32, Shape.of(t, 4, 2 * rank + 1, n), "dyn")) {
                backend.dynamicWeights(at, new DynamicWeightParams(w1, qk, ddt, n, rank), ot);
                double[] expected = Oracle.dynamicWeights(toDouble(a), toDouble(dw1), toDouble(qkw), toDouble(dd), t, e, n, rank, k);
                assertClose("dynamicWeights " + dtype + " E=" + e + " N=" + n, ot.toFloatArray(), expected, 2e-5, 1e-4);
            }
        }
    }

    @Test
    void copyConvertsBetweenFloatTypes() {
        float[] v = random(new Random(13), 65, 3f);
        try (Tensor a = backend.fromFloats(DType.F32, Shape.of(65), v, "a");
             Tensor b = backend.allocate(DType.BF16, Shape.of(5, 13), "b");
             Tensor c = backend.allocate(DType.F32, Shape.of(65), "c")) {
            backend.copy(a, b);
            backend.copy(b, c);
            double[] expected = new double[65];
            for (int i = 0; i < 65; i++) {
                expected[i] = io.dcformer4j.api.Numerics.roundTo(DType.BF16, v[i]);
            }
            assertClose("copy via BF16", c.toFloatArray(), expected, 0, 0);
        }
    }
}
