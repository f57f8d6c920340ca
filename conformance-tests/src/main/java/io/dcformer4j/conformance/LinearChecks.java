package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** linear with every weight dtype (Q8_0 where the backend supports it), linears, and the embedding lookup. */
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

    /**
     * (T, in, out) for Q8_0 weights: in a multiple of 32 (one block, three, a model width), T across the
     * row-by-row limit of 64, odd outputs; then the shapes of a 2.8B model's projections.
     */
    private static final int[][] Q8_SHAPES = {
        {1, 32, 1}, {3, 32, 7}, {17, 96, 33}, {64, 96, 65}, {65, 32, 17}, {1, 2560, 19}, {3, 2560, 31}, {66, 2560, 9},
        {129, 96, 67}, {200, 416, 131},
    };
    private static final int[][] Q8_MODEL_SHAPES = {{1, 2560, 6912}, {3, 6912, 2560}, {65, 2560, 512}};

    /** On a backend without Q8_0, its refusal is checked and the test reported as skipped (not as passed). */
    private void requireQ8(Backend b) {
        if (!b.supportsWeights(DType.Q8_0)) {
            assertThatThrownBy(() -> tck().weights(b, DType.Q8_0, new float[64], "w", 2, 32))
                    .as(b.name() + " declares Q8_0 unsupported: weights(Q8_0) must be refused naming the dtype")
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0");
            Assumptions.abort(b.name() + " declares Q8_0 weights unsupported (Backend.supportsWeights)");
        }
    }

    private void linearQ8Case(Backend b, int rows, int in, int outDim, boolean withBias, boolean viaBytes) {
        float[] x = tck().normal(rows * in, 1.0);
        float[] raw = tck().normal(outDim * in, 0.5);
        byte[] blocks = Q8_0Format.quantize(raw); // what the backend must have stored
        float[] bias = withBias ? tck().normal(outDim, 1.0) : null;
        Tensor xt = tck().tensor(b, DType.F32, x, "x", rows, in);
        Tensor wt = viaBytes ? tck().weights(b, DType.Q8_0, raw, "w", outDim, in) : tck().tensor(b, DType.Q8_0, raw, "w", outDim, in);
        Tensor bt = withBias ? tck().tensor(b, DType.F32, bias, "bias", outDim) : null;
        Tensor out = tck().tensor(b, DType.F32, new float[rows * outDim], "out", rows, outDim);
        b.linear(xt, wt, bt, out);
        float[] w = Q8_0Format.dequantize(blocks);
        Check.close("linear Q8_0 weights (" + (viaBytes ? "weights(bytes)" : "fromFloats") + ") x[" + rows + ", " + in
                        + "] · w[" + outDim + ", " + in + "]ᵀ" + (withBias ? " + bias" : ""),
                new int[] {rows, outDim}, out.toFloatArray(), Oracle.linearQ8_0(x, rows, in, blocks, outDim, bias),
                Oracle.linearMagnitude(x, rows, in, w, outDim, bias), Tolerances.LINEAR);
    }

    @Test
    void linearQ8_0Weights() {
        requireQ8(backend());
        for (int i = 0; i < Q8_SHAPES.length; i++) {
            int[] s = Q8_SHAPES[i];
            linearQ8Case(backend(), s[0], s[1], s[2], i % 2 == 0, i % 3 != 1);
        }
    }

    @Test
    void linearQ8_0WeightsAtModelSizes() {
        requireQ8(backend());
        for (int i = 0; i < Q8_MODEL_SHAPES.length; i++) {
            int[] s = Q8_MODEL_SHAPES[i];
            linearQ8Case(backend(), s[0], s[1], s[2], i == 1, true);
        }
    }

    @Test
    void linearQ8_0RowsOfSlicedWeights() {
        requireQ8(backend());
        // a fused [3E, E] weight used as three [E, E] slices, as the model uses wqkv
        int e = 96;
        float[] raw = tck().normal(3 * e * e, 0.5);
        byte[] blocks = Q8_0Format.quantize(raw);
        float[] x = tck().normal(2 * e, 1.0);
        Tensor w = tck().weights(backend(), DType.Q8_0, raw, "wqkv", 3 * e, e);
        for (int j = 0; j < 3; j++) {
            Tensor out = tck().zeros("out", 2, e);
            backend().linear(tck().f32(x, "x", 2, e), backend().slice(w, j * e, (j + 1) * e), null, out);
            byte[] part = java.util.Arrays.copyOfRange(blocks, j * e * (e / 32) * 34, (j + 1) * e * (e / 32) * 34);
            Check.close("linear with rows [" + j * e + ", " + (j + 1) * e + ") of a Q8_0 weight", new int[] {2, e},
                    out.toFloatArray(), Oracle.linearQ8_0(x, 2, e, part, e, null),
                    Oracle.linearMagnitude(x, 2, e, Q8_0Format.dequantize(part), e, null), Tolerances.LINEAR);
        }
    }

    @Test
    void linearQ8_0RefusesPartialBlocksAndOtherOps() {
        requireQ8(backend());
        assertThatThrownBy(() -> backend().weights(DType.Q8_0, Shape.of(3, 40), tck().bytes(DType.Q8_0, new float[128]), "w40"))
                .as("Q8_0 weight [3, 40]: 40 is not a multiple of 32").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("w40").hasMessageContaining("[3, 40]").hasMessageContaining("32");
        Tensor q = tck().weights(backend(), DType.Q8_0, tck().normal(64, 1.0), "q8", 2, 32);
        Tensor out = tck().zeros("out", 1, 32);
        assertThatThrownBy(() -> backend().embedding(q, new int[] {1}, out)).as("embedding with a Q8_0 table")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0");
        assertThatThrownBy(() -> backend().copy(q, tck().zeros("f", 2, 32))).as("copy from Q8_0")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0");
        Tensor x = tck().zeros("x", 1, 32);
        assertThatThrownBy(() -> backend().rmsNorm(x, backend().view(q, Shape.of(64)), 1e-6f, tck().zeros("o", 1, 64)))
                .as("rmsNorm with a Q8_0 gain").isInstanceOf(IllegalArgumentException.class);
        assertThat(Q8_0Format.dequantize(Q8_0Format.quantize(q.toFloatArray()))).as("toFloatArray of Q8_0 gives d·q")
                .containsExactly(q.toFloatArray());
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

    /**
     * {@code linears} of weights side by side: weight j has out[j] outputs and dtype dtypes[j]; biases on the
     * even-numbered weights when {@code withBiases}. Every output must be exactly {@code linear}'s for that weight
     * alone, and close to the oracle.
     */
    private void linearsCase(int rows, int in, int[] outDims, DType[] dtypes, boolean withBiases) {
        Backend b = backend();
        int n = outDims.length;
        float[] x = tck().normal(rows * in, 1.0);
        Tensor xt = tck().f32(x, "x", rows, in);
        List<Tensor> weights = new ArrayList<>();
        List<Tensor> biases = withBiases ? new ArrayList<>() : null;
        List<Tensor> outs = new ArrayList<>();
        float[][] stored = new float[n][];
        float[][] biasValues = new float[n][];
        StringBuilder what = new StringBuilder("linears x[" + rows + ", " + in + "] with w");
        for (int j = 0; j < n; j++) {
            float[] raw = tck().normal(outDims[j] * in, 0.5);
            stored[j] = dtypes[j] == DType.Q8_0 ? Q8_0Format.dequantize(Q8_0Format.quantize(raw)) : TckContext.rounded(dtypes[j], raw);
            weights.add(tck().weights(b, dtypes[j], raw, "w" + j, outDims[j], in));
            if (withBiases) {
                biasValues[j] = j % 2 == 0 ? tck().normal(outDims[j], 1.0) : null;
                biases.add(biasValues[j] == null ? null : tck().f32(biasValues[j], "bias" + j, outDims[j]));
            }
            outs.add(tck().zeros("out" + j, rows, outDims[j]));
            what.append(j == 0 ? "" : " +").append(" ").append(dtypes[j]).append("[").append(outDims[j]).append(", ").append(in)
                    .append("]").append(biasValues[j] == null ? "" : " with bias");
        }
        b.linears(xt, weights, biases, outs);
        for (int j = 0; j < n; j++) {
            Tensor alone = tck().zeros("alone" + j, rows, outDims[j]);
            b.linear(xt, weights.get(j), biases == null ? null : biases.get(j), alone);
            int[] shape = {rows, outDims[j]};
            String projection = what + ": projection " + j;
            Check.agree(projection, shape, outs.get(j).toFloatArray(), "linears", alone.toFloatArray(), "linear of w" + j + " alone",
                    Tolerances.SAME_AS_LINEAR);
            Check.close(projection, shape, outs.get(j).toFloatArray(), Oracle.linear(x, rows, in, stored[j], outDims[j], biasValues[j]),
                    Oracle.linearMagnitude(x, rows, in, stored[j], outDims[j], biasValues[j]), Tolerances.LINEAR);
        }
    }

    /** (T, in): one decode row, a few, the row-by-row limit of 64 and one past it; in a multiple of 32 or not. */
    private static final int[][] LINEARS_SHAPES = {{1, 17}, {3, 65}, {5, 96}, {64, 130}, {65, 33}, {2, 1000}};

    @Test
    void linearsEqualEachLinear() {
        boolean q8 = backend().supportsWeights(DType.Q8_0);
        for (int i = 0; i < LINEARS_SHAPES.length; i++) {
            int rows = LINEARS_SHAPES[i][0];
            int in = LINEARS_SHAPES[i][1];
            DType maybeQ8 = q8 && in % 32 == 0 ? DType.Q8_0 : DType.BF16;
            linearsCase(rows, in, new int[] {7, 33, 16, 1}, new DType[] {DType.BF16, DType.F32, maybeQ8, DType.F16}, i % 2 == 0);
            linearsCase(rows, in, new int[] {64, 64, 64}, new DType[] {DType.BF16, DType.BF16, DType.BF16}, i % 2 == 1);
            linearsCase(rows, in, new int[] {5}, new DType[] {DType.F32}, false);
        }
    }

    /** A layer's q, k and v and an FFN's gate, up and mgate logits at a 2.8B model's widths. */
    @Test
    void linearsAtModelSizes() {
        linearsCase(1, 2560, new int[] {2560, 2560, 2560}, new DType[] {DType.BF16, DType.BF16, DType.BF16}, false);
        linearsCase(5, 2560, new int[] {2560, 2560, 2560}, new DType[] {DType.BF16, DType.BF16, DType.BF16}, true);
        linearsCase(3, 1024, new int[] {2816, 2816, 4}, new DType[] {DType.BF16, DType.BF16, DType.F32}, false);
    }

    @Test
    void linearsRejectsMismatchedLists() {
        Tensor x = tck().f32(tck().normal(10, 1.0), "x", 2, 5);
        Tensor w = tck().f32(tck().normal(15, 1.0), "w", 3, 5);
        Tensor out = tck().zeros("out", 2, 3);
        Tensor out2 = tck().zeros("out2", 2, 3);
        assertThatThrownBy(() -> backend().linears(x, List.of(), null, List.of())).as("linears with no weights")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("linears").hasMessageContaining("no weights");
        assertThatThrownBy(() -> backend().linears(x, List.of(w, w), null, List.of(out))).as("linears with 2 weights and 1 out")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 weights, 1 outs");
        assertThatThrownBy(() -> backend().linears(x, List.of(w), List.of(), List.of(out))).as("linears with an empty bias list")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 biases");
        assertThatThrownBy(() -> backend().linears(x, List.of(w, w), null, List.of(out, out))).as("linears into one out twice")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("same tensor");
        Tensor square = tck().zeros("square", 5, 5);
        assertThatThrownBy(() -> backend().linears(x, List.of(square), null, List.of(x))).as("linears into its input")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("input x");
        Tensor wrongOut = tck().zeros("wrongOut", 2, 4);
        assertThatThrownBy(() -> backend().linears(x, List.of(w, w), null, List.of(out, wrongOut))).as("linears with out[2, 4] for w[3, 5]")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("projection 1").hasMessageContaining("wrongOut");
        Tensor wrongIn = tck().zeros("wrongIn", 3, 4);
        assertThatThrownBy(() -> backend().linears(x, List.of(w, wrongIn), null, List.of(out, out2)))
                .as("linears with w[3, 4] for x[2, 5]").isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("projection 1").hasMessageContaining("wrongIn");
        assertThat(out.toFloatArray()).as("out after refused calls: nothing computed before the checks").containsOnly(0f);
        assertThat(out2.toFloatArray()).as("out2 after refused calls: nothing computed before the checks").containsOnly(0f);
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
