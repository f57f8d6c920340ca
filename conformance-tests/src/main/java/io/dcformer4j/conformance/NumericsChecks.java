package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Degenerate numbers: rows of tiny magnitude (1e-3, 1e-20), subnormal rows, zero and constant rows (zero
 * variance, so eps alone decides the result), rows of negative zeros, and very large inputs. Normal random
 * data hides where eps is added and how a kernel treats 0/0, underflow and overflow.
 */
abstract class NumericsChecks extends Checks {
    /** Row kinds: each row of the test matrices is one of these, scaled random data or a constant. */
    private float[] degenerateRows(int width) {
        double[] scales = {1.0, 1e-3, 1e-20, 3e-39, 0.0, 0.0, 1.0, 1e-3};
        float[] x = new float[scales.length * width]; // [8, width]
        for (int r = 0; r < scales.length; r++) {
            float[] row = tck().normal(width, 1.0);
            for (int j = 0; j < width; j++) {
                float v = switch (r) {
                    case 4 -> 0f;                 // zeros
                    case 5 -> -0f;                // negative zeros
                    case 6 -> 2.75f;              // a constant row: zero variance
                    case 7 -> -1e-3f;             // a tiny constant row
                    default -> (float) (row[j] * scales[r]);
                };
                x[r * width + j] = v;
            }
        }
        return x;
    }

    private static final String ROWS = "rows: N(0,1), ×1e-3, ×1e-20, subnormal ×3e-39, zeros, negative zeros, constant 2.75, constant −1e-3";

    @Test
    void rmsNormDegenerateRows() {
        for (int width : new int[] {7, 1500}) {
            for (float eps : new float[] {1e-5f, 1e-6f}) {
                float[] x = degenerateRows(width);
                float[] g = tck().normal(width, 0.3);
                for (int j = 0; j < width; j++) {
                    g[j] += 1f;
                }
                int rows = x.length / width;
                Tensor out = tck().zeros("out", rows, width);
                backend().rmsNorm(tck().f32(x, "x", rows, width), tck().f32(g, "gain", width), eps, out);
                Check.close("rmsNorm over E = " + width + ", eps " + eps + ", " + ROWS, new int[] {rows, width}, out.toFloatArray(),
                        Oracle.rmsNorm(x, g, eps), Tolerances.RMS_NORM_RELATIVE);
            }
        }
        float[] x = degenerateRows(16);
        float[] g = tck().normal(4, 1.0);
        Tensor out = tck().zeros("out", 8, 16);
        backend().rmsNorm(tck().f32(x, "x", 8, 16), tck().f32(g, "gain", 4), 1e-6f, out);
        Check.close("rmsNorm as qk-norm (groups of 4), " + ROWS, new int[] {8, 16}, out.toFloatArray(), Oracle.rmsNorm(x, g, 1e-6),
                Tolerances.RMS_NORM_RELATIVE);
    }

    @Test
    void layerNormDegenerateRows() {
        for (int width : new int[] {7, 1500}) {
            float[] x = degenerateRows(width);
            float[] g = tck().normal(width, 0.3);
            float[] b = tck().normal(width, 0.5);
            int rows = x.length / width;
            Tensor out = tck().zeros("out", rows, width);
            backend().layerNorm(tck().f32(x, "x", rows, width), tck().f32(g, "gain", width), tck().f32(b, "bias", width), 1e-5f, out);
            Check.close("layerNorm over E = " + width + ", eps 1e-5, " + ROWS, new int[] {rows, width}, out.toFloatArray(),
                    Oracle.layerNorm(x, g, b, 1e-5), NormChecks.layerNormScale(x, g, b, width, 1e-5), Tolerances.LAYER_NORM);
        }
    }

    @Test
    void softmaxDegenerateRows() {
        for (int width : new int[] {7, 1500}) {
            float[] x = degenerateRows(width);
            int rows = x.length / width;
            float[] big = new float[(rows + 2) * width]; // [10, width]: the rows above, then ±3e38 spreads
            System.arraycopy(x, 0, big, 0, x.length);
            float[] spread = tck().uniform(width, -1, 1);
            for (int j = 0; j < width; j++) {
                big[rows * width + j] = 3e38f - (float) (spread[j] * 1e34);   // near FLT_MAX: x − max must not overflow
                big[(rows + 1) * width + j] = -3e38f + (float) (spread[j] * 1e34);
            }
            Tensor out = tck().zeros("out", rows + 2, width);
            backend().softmax(tck().f32(big, "x", rows + 2, width), out);
            Check.close("softmax over " + width + ", " + ROWS + ", logits near ±3e38", new int[] {rows + 2, width}, out.toFloatArray(),
                    Oracle.softmax(big, width), Tolerances.SOFTMAX_LONG);
        }
    }

    @Test
    void swigluAndGeluExtremeInputs() {
        float[] special = {0f, -0f, 1e-20f, -1e-20f, 3e-39f, -3e-39f, 1e-3f, 20f, -20f, 88f, -88f, 90f, -90f, 100f, -100f, 1e4f, -1e4f,
            3e38f, -3e38f, 7f, -7f, 0.5f, -0.5f};
        int n = special.length;
        float[] up = tck().normal(n, 1.0);
        Tensor x = tck().f32(special, "x", 1, n);
        Tensor out = tck().zeros("out", 1, n);
        for (int i = 0; i < n; i++) {
            if (Math.abs(special[i]) > 1e37f) {
                up[i] = 0.5f; // silu(3e38)·up must stay below FLT_MAX for the oracle's value to be representable
            }
        }
        backend().swiglu(x, tck().f32(up, "up", 1, n), out);
        Check.close("swiglu of gates 0, −0, ±1e-20, subnormal, ±20, ±88, ±90, ±100, ±1e4, ±3e38", new int[] {1, n}, out.toFloatArray(),
                Oracle.swiglu(special, up), Tolerances.SWIGLU);
        backend().gelu(x, out);
        Check.close("gelu of 0, −0, ±1e-20, subnormal, ±20, ±88, ±90, ±100, ±1e4, ±3e38", new int[] {1, n}, out.toFloatArray(),
                Oracle.gelu(special), ElementwiseChecks.scaleOf(special), Tolerances.GELU);
    }

    @Test
    void linearTinyMagnitudes() {
        int rows = 3;
        int in = 1500;
        int outDim = 19;
        for (double scale : new double[] {1e-3, 1e-20}) {
            float[] x = tck().normal(rows * in, scale);
            float[] w = TckContext.rounded(DType.BF16, tck().normal(outDim * in, 0.5));
            Tensor out = tck().zeros("out", rows, outDim);
            backend().linear(tck().f32(x, "x", rows, in), tck().weights(backend(), DType.BF16, w, "w", outDim, in), null, out);
            Check.close("linear of inputs ×" + scale + " (relative error judged without the absolute floor)", new int[] {rows, outDim},
                    out.toFloatArray(), Oracle.linear(x, rows, in, w, outDim, null), Oracle.linearMagnitude(x, rows, in, w, outDim, null),
                    Tolerances.LINEAR_RELATIVE);
        }
    }

    @Test
    void dynamicWeightsZeroAndTinyRows() {
        int e = 64;
        int n = 8;
        int rank = 2;
        int k = 32;
        int rows = 3;
        float[] a = new float[rows * e]; // [3, 64]: zeros, ×1e-20, negative zeros
        float[] tiny = tck().normal(e, 1e-20);
        for (int j = 0; j < e; j++) {
            a[e + j] = tiny[j];
            a[2 * e + j] = -0f;
        }
        float[] dw1 = tck().normal(e * 4 * k, 1.5 / Math.sqrt(e));
        float[] qkw = tck().normal(4 * k * 2 * rank * n, 1.5 / Math.sqrt(k));
        float[] dd = tck().normal(e * 4 * n, 1.0 / Math.sqrt(e));
        Tensor out = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
        backend().dynamicWeights(tck().f32(a, "a", rows, e), new DynamicWeightParams(tck().f32(dw1, "dw1", e, 1, 4, k),
                tck().f32(qkw, "qkw", 1, 4, k, 2 * rank, n), tck().f32(dd, "dd", e, 1, 4 * n), n, rank), out);
        Check.close("dynamicWeights of zero, ×1e-20 and negative-zero rows (the RMS over heads is eps-dominated: w1 must be 0, not NaN)",
                new int[] {rows, 4, 2 * rank + 1, n}, out.toFloatArray(), Oracle.dynamicWeights(a, rows, dw1, qkw, dd, n, rank),
                Tolerances.DYNAMIC_WEIGHTS);
    }

    @Test
    void attentionDegenerateInputs() {
        int n = 4;
        int d = 8;
        AttentionCase zeros = AttentionCase.random(tck(), AttentionMode.DCMHA, n, d, 2, 0, false, false, 300, 1e-20);
        AttentionPlans.runAndCheck(tck(), backend(), "q, k ×1e-20 (all logits ~0: uniform weights over 290..300 keys)", zeros, 300,
                AttentionPlans.ones(290, 10), Tolerances.ATTENTION_LONG);
        AttentionCase negZero = AttentionCase.random(tck(), AttentionMode.PLAIN_MHA, n, d, 2, 8, false, false, 20, 1.0);
        java.util.Arrays.fill(negZero.q, -0f);
        AttentionPlans.runAndCheck(tck(), backend(), "q of negative zeros, local W = 8 (uniform weights over the window)", negZero, 8,
                AttentionPlans.ones(12, 8), Tolerances.ATTENTION);
    }
}
