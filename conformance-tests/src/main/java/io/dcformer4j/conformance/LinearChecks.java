package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/** linear with every weight dtype, and the embedding lookup. */
abstract class LinearChecks extends Checks {
    /** (T, in, out): every awkward size appears as the reduction length, small ones also as T and out. */
    private static final int[][] SHAPES = {
        {1, 1, 1}, {3, 3, 7}, {2, 7, 17}, {17, 17, 3}, {5, 63, 65}, {4, 65, 63}, {3, 1000, 17}, {1, 1000, 1}, {7, 9, 1000}, {33, 130, 67}, {1, 65, 1000},
    };

    private void linearCase(Backend b, DType dtype, int rows, int in, int outDim, boolean withBias, boolean viaBytes) {
        float[] x = tck().normal(rows * in, 1.0);
        float[] raw = tck().normal(outDim * in, 0.5);
        float[] w = TckContext.rounded(dtype, raw); // what the backend must have stored
        float[] bias = withBias ? tck().normal(outDim, 1.0) : null;
        Tensor xt = tck().tensor(b, DType.F32, x, "x", rows, in);
        Tensor wt = viaBytes ? tck().weights(b, dtype, raw, "w", outDim, in) : tck().tensor(b, dtype, raw, "w", outDim, in);
        Tensor bt = withBias ? tck().tensor(b, DType.F32, bias, "bias", outDim) : null;
        Tensor out = tck().tensor(b, DType.F32, new float[rows * outDim], "out", rows, outDim);
        b.linear(xt, wt, bt, out);
        Check.close("linear " + dtype + " weights (" + (viaBytes ? "weights(bytes)" : "fromFloats") + ") x[" + rows + ", " + in
                        + "] · w[" + outDim + ", " + in + "]ᵀ" + (withBias ? " + bias" : ""),
                new int[] {rows, outDim}, out.toFloatArray(), Oracle.linear(x, rows, in, w, outDim, bias),
                Oracle.linearMagnitude(x, rows, in, w, outDim, bias), Tolerances.LINEAR);
    }

    private void linearAllShapes(DType dtype) {
        for (int i = 0; i < SHAPES.length; i++) {
            int[] s = SHAPES[i];
            linearCase(backend(), dtype, s[0], s[1], s[2], i % 2 == 0, i % 3 != 1);
        }
    }

    @Test
    void linearF32Weights() {
        linearAllShapes(DType.F32);
    }

    @Test
    void linearBf16Weights() {
        linearAllShapes(DType.BF16);
    }

    @Test
    void linearF16Weights() {
        linearAllShapes(DType.F16);
    }

    @Test
    void linearNaNInInputPropagates() {
        int rows = 3;
        int in = 17;
        int outDim = 9;
        float[] x = tck().normal(rows * in, 1.0);
        x[in + 5] = Float.NaN;
        float[] w = tck().normal(outDim * in, 0.5);
        Tensor out = tck().zeros("out", rows, outDim);
        backend().linear(tck().f32(x, "x", rows, in), tck().f32(w, "w", outDim, in), null, out);
        Check.close("linear with NaN at x[1, 5] (row 1 must be NaN, rows 0 and 2 finite)", new int[] {rows, outDim},
                out.toFloatArray(), Oracle.linear(x, rows, in, w, outDim, null), Oracle.linearMagnitude(x, rows, in, w, outDim, null),
                Tolerances.LINEAR);
    }

    @Test
    void linearAgreesAcrossWorkerCounts() {
        int rows = 64;
        int in = 200;
        int outDim = 130;
        float[] x = tck().normal(rows * in, 1.0);
        float[] w = TckContext.rounded(DType.BF16, tck().normal(outDim * in, 0.5));
        double[] expected = Oracle.linear(x, rows, in, w, outDim, null);
        double[] scale = Oracle.linearMagnitude(x, rows, in, w, outDim, null);
        float[] single = null;
        for (int threads : new int[] {1, 2, 2, 2}) {
            Backend b = threads == 1 ? tck().open(1) : backend();
            Tensor out = tck().tensor(b, DType.F32, new float[rows * outDim], "out", rows, outDim);
            b.linear(tck().tensor(b, DType.F32, x, "x", rows, in), tck().weights(b, DType.BF16, w, "w", outDim, in), null, out);
            float[] result = out.toFloatArray();
            Check.close("linear with " + threads + " worker(s)", new int[] {rows, outDim}, result, expected, scale, Tolerances.LINEAR);
            if (single == null) {
                single = result;
            } else {
                Check.agree("linear", new int[] {rows, outDim}, result, "2 workers", single, "1 worker", Tolerances.WORKERS);
            }
        }
    }

    @Test
    void linearRejectsMismatchedShapes() {
        Tensor x = tck().zeros("x", 2, 5);
        Tensor w = tck().zeros("w", 3, 4);
        Tensor out = tck().zeros("out", 2, 3);
        assertThatThrownBy(() -> backend().linear(x, w, null, out)).as("linear x[2, 5] with w[3, 4]")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor w5 = tck().zeros("w5", 3, 5);
        Tensor wrongOut = tck().zeros("wrongOut", 2, 4);
        assertThatThrownBy(() -> backend().linear(x, w5, null, wrongOut)).as("linear into out[2, 4] for w[3, 5]")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor wrongBias = tck().zeros("wrongBias", 4);
        assertThatThrownBy(() -> backend().linear(x, w5, wrongBias, out)).as("linear with bias[4] for 3 outputs")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor ids = tck().own(backend().fromInts(Shape.of(2, 5), new int[10], "ids"));
        assertThatThrownBy(() -> backend().linear(ids, w5, null, out)).as("linear with I32 input")
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void embeddingEveryTableDtype() {
        int vocab = 11;
        int[] tokens = {0, 10, 3, 3, 7, 1, 10};
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            for (int width : new int[] {1, 7, 65}) {
                float[] raw = tck().normal(vocab * width, 1.0);
                float[] table = TckContext.rounded(dtype, raw);
                boolean viaBytes = width != 7;
                Tensor tt = viaBytes ? tck().weights(backend(), dtype, raw, "table", vocab, width)
                        : tck().tensor(backend(), dtype, raw, "table", vocab, width);
                Tensor out = tck().zeros("out", tokens.length, width);
                backend().embedding(tt, tokens, out);
                Check.close("embedding " + dtype + " table [" + vocab + ", " + width + "]", new int[] {tokens.length, width},
                        out.toFloatArray(), Oracle.embedding(table, width, tokens), Tolerances.EXACT);
            }
        }
    }

    @Test
    void embeddingRejectsOutOfRangeIds() {
        Tensor table = tck().zeros("table", 5, 3);
        Tensor out = tck().zeros("out", 1, 3);
        assertThatThrownBy(() -> backend().embedding(table, new int[] {5}, out)).as("embedding id 5 of vocabulary 5")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().embedding(table, new int[] {-1}, out)).as("embedding id -1")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor twoRows = tck().zeros("twoRows", 2, 3);
        assertThatThrownBy(() -> backend().embedding(table, new int[] {1}, twoRows)).as("embedding 1 token into 2 rows")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
