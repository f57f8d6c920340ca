package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/** The DCMHA dynamic-weight generation (spec §2.2) with every parameter dtype. */
abstract class DynamicWeightChecks extends Checks {
    /** (T, E, N, I, K). */
    private static final int[][] SHAPES = {{5, 16, 4, 2, 16}, {1, 7, 3, 1, 6}, {3, 64, 8, 2, 32}, {17, 17, 2, 2, 8}};

    private void dynamicCase(DType dtype, int rows, int e, int n, int rank, int k) {
        float[] a = tck().normal(rows * e, 1.0);
        float[] dw1Raw = tck().normal(e * 4 * k, 1.5 / Math.sqrt(e));
        float[] qkwRaw = tck().normal(4 * k * 2 * rank * n, 1.5 / Math.sqrt(k));
        float[] ddRaw = tck().normal(e * 4 * n, 1.0 / Math.sqrt(e));
        boolean viaBytes = rows != 1;
        Tensor dw1 = viaBytes ? tck().weights(backend(), dtype, dw1Raw, "dw1", e, 1, 4, k) : tck().tensor(backend(), dtype, dw1Raw, "dw1", e, 1, 4, k);
        Tensor qkw = viaBytes ? tck().weights(backend(), dtype, qkwRaw, "qkw", 1, 4, k, 2 * rank, n)
                : tck().tensor(backend(), dtype, qkwRaw, "qkw", 1, 4, k, 2 * rank, n);
        Tensor dd = viaBytes ? tck().weights(backend(), dtype, ddRaw, "dd", e, 1, 4 * n) : tck().tensor(backend(), dtype, ddRaw, "dd", e, 1, 4 * n);
        Tensor out = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
        backend().dynamicWeights(tck().f32(a, "a", rows, e), new DynamicWeightParams(dw1, qkw, dd, n, rank), out);
        double[] expected = Oracle.dynamicWeights(a, rows, TckContext.rounded(dtype, dw1Raw), TckContext.rounded(dtype, qkwRaw),
                TckContext.rounded(dtype, ddRaw), n, rank);
        Check.close("dynamicWeights " + dtype + " params, T = " + rows + ", E = " + e + ", N = " + n + ", I = " + rank + ", K = " + k
                + " (layout [T, 4, 2I+1, N])", new int[] {rows, 4, 2 * rank + 1, n}, out.toFloatArray(), expected,
                Tolerances.DYNAMIC_WEIGHTS);
    }

    private void allShapes(DType dtype) {
        for (int[] s : SHAPES) {
            dynamicCase(dtype, s[0], s[1], s[2], s[3], s[4]);
        }
    }

    @Test
    void dynamicWeightsF32Params() {
        allShapes(DType.F32);
    }

    @Test
    void dynamicWeightsBf16Params() {
        allShapes(DType.BF16);
    }

    @Test
    void dynamicWeightsF16Params() {
        allShapes(DType.F16);
    }

    @Test
    void dynamicWeightsRejectsWrongOutputShape() {
        int e = 8;
        int n = 2;
        int rank = 1;
        int k = 4;
        DynamicWeightParams params = new DynamicWeightParams(tck().zeros("dw1", e, 1, 4, k), tck().zeros("qkw", 1, 4, k, 2 * rank, n),
                tck().zeros("dd", e, 1, 4 * n), n, rank);
        Tensor a = tck().zeros("a", 3, e);
        Tensor wrong = tck().zeros("dyn", 3, 4, 2 * rank + 1, n + 1);
        assertThatThrownBy(() -> backend().dynamicWeights(a, params, wrong)).as("dynamicWeights into [3, 4, 3, 3] for N = 2")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor wrongA = tck().zeros("a", 3, e + 1);
        Tensor dyn = tck().zeros("dyn", 3, 4, 2 * rank + 1, n);
        assertThatThrownBy(() -> backend().dynamicWeights(wrongA, params, dyn)).as("dynamicWeights of a [3, 9] with E = 8")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
