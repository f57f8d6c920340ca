package io.dcformer4j.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The row operations of a decode step give a row the same floats whether it is alone or one of B rows (a
 * batched step across sequences relies on it): linear with every weight dtype and awkward sizes, the
 * dynamic weights, SwiGLU and GELU on rows that are not whole vectors, for B up to the row-stable limit.
 * Runs with one compiler tier (see the pom).
 */
@Tag("one-compiler-tier")
class RowStabilityTest {
    private static final int[] BATCHES = {2, 3, 5, 8, 16, 64};

    private interface RowOp {
        float[] apply(Backend b, float[] rows, int t);
    }

    /** Row r of op over B rows equals op over row r alone, for every B. */
    private static void check(String what, Backend b, int width, RowOp op, Random rnd) {
        for (int batch : BATCHES) {
            float[] x = TestData.random(rnd, batch * width, 1f);
            float[] together = op.apply(b, x, batch);
            int outWidth = together.length / batch;
            for (int r = 0; r < batch; r++) {
                float[] alone = op.apply(b, Arrays.copyOfRange(x, r * width, (r + 1) * width), 1);
                assertThat(Arrays.copyOfRange(together, r * outWidth, (r + 1) * outWidth))
                        .as("%s: row %d of a batch of %d vs the row alone", what, r, batch).isEqualTo(alone);
            }
        }
    }

    @Test
    void linearRowsDoNotDependOnTheBatch() {
        Random rnd = new Random(3);
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(2))) {
            for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16, DType.Q8_0}) {
                for (int[] s : new int[][] {{67, 37}, {256, 130}, {5, 3}, {2560, 19}}) {
                    if (dtype == DType.Q8_0 && s[0] % 32 != 0) {
                        continue;   // Q8_0 needs whole blocks of 32 along in
                    }
                    int in = s[0];
                    int out = s[1];
                    float[] w = TestData.random(rnd, out * in, 1f);
                    float[] bias = TestData.random(rnd, out, 1f);
                    check("linear " + dtype + " [" + out + ", " + in + "]", b, in, (be, x, t) -> {
                        try (Tensor xt = be.fromFloats(DType.F32, Shape.of(t, in), x, "x");
                             Tensor wt = be.fromFloats(dtype, Shape.of(out, in), w, "w");
                             Tensor bt = be.fromFloats(DType.F32, Shape.of(out), bias, "b");
                             Tensor ot = be.allocate(DType.F32, Shape.of(t, out), "out")) {
                            be.linear(xt, wt, bt, ot);
                            return ot.toFloatArray();
                        }
                    }, rnd);
                }
            }
        }
    }

    @Test
    void elementwiseRowsDoNotDependOnTheBatch() {
        Random rnd = new Random(4);
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(2))) {
            for (int f : new int[] {37, 48, 4100}) {
                check("swiglu rows of " + f, b, 2 * f, (be, x, t) -> {
                    float[] gate = new float[t * f];
                    float[] up = new float[t * f];
                    for (int r = 0; r < t; r++) {
                        System.arraycopy(x, r * 2 * f, gate, r * f, f);
                        System.arraycopy(x, r * 2 * f + f, up, r * f, f);
                    }
                    try (Tensor g = be.fromFloats(DType.F32, Shape.of(t, f), gate, "gate");
                         Tensor u = be.fromFloats(DType.F32, Shape.of(t, f), up, "up");
                         Tensor o = be.allocate(DType.F32, Shape.of(t, f), "out")) {
                        be.swiglu(g, u, o);
                        return o.toFloatArray();
                    }
                }, rnd);
                check("gelu rows of " + f, b, f, (be, x, t) -> {
                    try (Tensor xt = be.fromFloats(DType.F32, Shape.of(t, f), x, "x");
                         Tensor o = be.allocate(DType.F32, Shape.of(t, f), "out")) {
                        be.gelu(xt, o);
                        return o.toFloatArray();
                    }
                }, rnd);
            }
        }
    }

    @Test
    void dynamicWeightRowsDoNotDependOnTheBatch() {
        Random rnd = new Random(5);
        int e = 40;
        int n = 4;
        int rank = 2;
        int k = 12;
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(2));
             Tensor dw1 = b.fromFloats(DType.BF16, Shape.of(e, 1, 4, k), TestData.random(rnd, e * 4 * k, 0.3f), "dw1");
             Tensor qkw = b.fromFloats(DType.BF16, Shape.of(1, 4, k, 2 * rank, n), TestData.random(rnd, 4 * k * 2 * rank * n, 0.3f), "qkw");
             Tensor dd = b.fromFloats(DType.BF16, Shape.of(e, 1, 4 * n), TestData.random(rnd, e * 4 * n, 0.3f), "dd")) {
            DynamicWeightParams p = new DynamicWeightParams(dw1, qkw, dd, n, rank);
            check("dynamicWeights", b, e, (be, x, t) -> {
                try (Tensor a = be.fromFloats(DType.F32, Shape.of(t, e), x, "a");
                     Tensor o = be.allocate(DType.F32, Shape.of(t, 4, 2 * rank + 1, n), "dyn")) {
                    be.dynamicWeights(a, p, o);
                    return o.toFloatArray();
                }
            }, rnd);
        }
    }
}
