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

    /**
     * dynamicWeightsFromProjection of the merged projection (computed in double, rounded to F32) against the
     * oracle's finish of the same projection; then the model's way: the projection as a {@code linear} with
     * dw_mᵀ on the backend, finished, against {@code dynamicWeights} of the same rows.
     */
    private void fromProjectionCase(DType dtype, int rows, int e, int n, int rank, int k) {
        float[] a = tck().normal(rows * e, 1.0);
        float[] dw1 = TckContext.rounded(dtype, tck().normal(e * 4 * k, 1.5 / Math.sqrt(e)));
        float[] qkwRaw = tck().normal(4 * k * 2 * rank * n, 1.5 / Math.sqrt(k));
        float[] dd = TckContext.rounded(dtype, tck().normal(e * 4 * n, 1.0 / Math.sqrt(e)));
        int cols = 4 * k + 4 * n;
        double[] exact = Oracle.dynamicProjection(a, rows, dw1, dd, n);
        float[] projected = new float[exact.length]; // [T, 4K + 4N]
        for (int i = 0; i < exact.length; i++) {
            projected[i] = (float) exact[i];
        }
        Tensor qkw = tck().weights(backend(), dtype, qkwRaw, "qkw", 1, 4, k, 2 * rank, n);
        DynamicWeightParams params = new DynamicWeightParams(tck().weights(backend(), dtype, dw1, "dw1", e, 1, 4, k), qkw,
                tck().weights(backend(), dtype, dd, "dd", e, 1, 4 * n), n, rank);
        Tensor out = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
        backend().dynamicWeightsFromProjection(tck().f32(projected, "projected", rows, cols), params, out);
        double[] fromProjected = new double[projected.length];
        for (int i = 0; i < projected.length; i++) {
            fromProjected[i] = projected[i];
        }
        String what = "dynamicWeightsFromProjection " + dtype + " qkw, T = " + rows + ", N = " + n + ", I = " + rank + ", K = " + k;
        int[] shape = {rows, 4, 2 * rank + 1, n};
        Check.close(what + " (layout [T, 4, 2I+1, N])", shape, out.toFloatArray(),
                Oracle.dynamicWeightsFromProjection(fromProjected, rows, TckContext.rounded(dtype, qkwRaw), n, rank),
                Tolerances.DYNAMIC_WEIGHTS);

        // dw_mᵀ [4K + 4N, E], the weight a model appends to its q/k/v pass
        float[] merged = new float[cols * e];
        for (int ee = 0; ee < e; ee++) {
            for (int j = 0; j < cols; j++) {
                merged[j * e + ee] = j < 4 * k ? dw1[ee * 4 * k + j] : dd[ee * 4 * n + j - 4 * k];
            }
        }
        Tensor at = tck().f32(a, "a", rows, e);
        Tensor viaLinear = tck().zeros("projected", rows, cols);
        backend().linear(at, tck().weights(backend(), dtype, merged, "dw_m", cols, e), null, viaLinear);
        Tensor finished = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
        backend().dynamicWeightsFromProjection(viaLinear, params, finished);
        Tensor direct = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
        backend().dynamicWeights(at, params, direct);
        Check.agree("dynamicWeightsFromProjection of linear(a, dw_mᵀ), " + dtype + ", T = " + rows + ", E = " + e, shape,
                finished.toFloatArray(), "from the projection", direct.toFloatArray(), "dynamicWeights(a)", Tolerances.DYNAMIC_WEIGHTS);
    }

    @Test
    void dynamicWeightsFromProjectionMatchesTheOracle() {
        DType[] dtypes = {DType.F32, DType.BF16, DType.F16, DType.BF16};
        for (int i = 0; i < SHAPES.length; i++) {
            int[] s = SHAPES[i];
            fromProjectionCase(dtypes[i], s[0], s[1], s[2], s[3], s[4]);
        }
        Tensor empty = tck().zeros("dyn", 0, 4, 5, 2);
        DynamicWeightParams params = new DynamicWeightParams(tck().zeros("dw1", 8, 1, 4, 4), tck().zeros("qkw", 1, 4, 4, 4, 2),
                tck().zeros("dd", 8, 1, 8), 2, 2);
        backend().dynamicWeightsFromProjection(tck().zeros("projected", 0, 24), params, empty);
    }

    /** E 8, N 2, I 1, K 4: zero parameters for the shape checks. */
    private static final int E = 8;
    private static final int N = 2;
    private static final int RANK = 1;
    private static final int K = 4;

    private DynamicWeightParams smallParams() {
        return new DynamicWeightParams(tck().zeros("dw1", E, 1, 4, K), tck().zeros("qkw", 1, 4, K, 2 * RANK, N),
                tck().zeros("dd", E, 1, 4 * N), N, RANK);
    }

    @Test
    void dynamicWeightsFromProjectionRejectsBadShapes() {
        int e = E;
        int n = N;
        int rank = RANK;
        int k = K;
        DynamicWeightParams params = smallParams();
        Tensor dyn = tck().zeros("dyn", 3, 4, 2 * rank + 1, n);
        Tensor narrow = tck().zeros("narrow", 3, 4 * k + 4 * n - 1);
        assertThatThrownBy(() -> backend().dynamicWeightsFromProjection(narrow, params, dyn))
                .as("dynamicWeightsFromProjection of [3, 23] for 4K + 4N = 24").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("narrow").hasMessageContaining("24");
        Tensor projected = tck().zeros("projected", 3, 4 * k + 4 * n);
        Tensor wrong = tck().zeros("wrongDyn", 2, 4, 2 * rank + 1, n);
        assertThatThrownBy(() -> backend().dynamicWeightsFromProjection(projected, params, wrong))
                .as("dynamicWeightsFromProjection of 3 rows into 2").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("wrongDyn");
        assertThatThrownBy(() -> backend().dynamicWeightsFromProjection(projected, null, dyn))
                .as("dynamicWeightsFromProjection without params").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("params");
    }

    @Test
    void dynamicWeightsRejectsWrongOutputShape() {
        int e = E;
        int n = N;
        int rank = RANK;
        DynamicWeightParams params = smallParams();
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
