package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The ops at the shapes released models have: reductions longer than 1024 that are not a multiple of any
 * power-of-two block (E or K of 1500, 2560, 4096, 6912), head dims 64, 80, 96 and 128 with 32 heads and
 * rank 2, dynamic weights at E 2560 and 4096 with N 32, K 128, and LM head / embedding tables whose byte
 * size passes 2³¹ (152064 rows). Big shapes are sampled: a few rows of a long reduction prove the path.
 */
abstract class ModelScaleChecks extends Checks {
    /** Reduction lengths of released models (hidden sizes and MLP widths), none a multiple of 1024 plus 4096. */
    static final int[] WIDTHS = {1500, 2560, 4096, 6912};
    /** Head dims of released models. */
    static final int[] HEAD_DIMS = {64, 80, 96, 128};
    /** The vocabulary of a Qwen-sized LM head: 152064 × 4096 F32 rows are 2.49e9 bytes, past 2³¹. */
    static final int HUGE_VOCAB = 152064;

    private void linearCase(DType dtype, int rows, int in, int outDim, boolean viaBytes) {
        float[] x = tck().normal(rows * in, 1.0);
        float[] raw = tck().normal(outDim * in, 0.5);
        float[] w = TckContext.rounded(dtype, raw);
        float[] bias = tck().normal(outDim, 1.0);
        Backend b = backend();
        Tensor wt = viaBytes ? tck().weights(b, dtype, raw, "w", outDim, in) : tck().tensor(b, dtype, raw, "w", outDim, in);
        Tensor out = tck().zeros("out", rows, outDim);
        b.linear(tck().f32(x, "x", rows, in), wt, tck().f32(bias, "bias", outDim), out);
        Check.close("linear " + dtype + " weights x[" + rows + ", " + in + "] · w[" + outDim + ", " + in + "]ᵀ + bias (model-scale reduction)",
                new int[] {rows, outDim}, out.toFloatArray(), Oracle.linear(x, rows, in, w, outDim, bias),
                Oracle.linearMagnitude(x, rows, in, w, outDim, bias), Tolerances.LINEAR);
    }

    @Test
    void linearModelScaleReductions() {
        // (rows, in, out): one decode row, a few rows, more rows than any GEMV path, and a prefill block past 192 rows.
        int[][] shapes = {{1, 6912, 70}, {3, 4096, 67}, {9, 2560, 130}, {1, 1500, 33}};
        DType[] dtypes = {DType.F32, DType.BF16, DType.F16};
        for (int s = 0; s < shapes.length; s++) {
            for (DType dtype : dtypes) {
                linearCase(dtype, shapes[s][0], shapes[s][1], shapes[s][2], (s + dtype.ordinal()) % 2 == 0);
            }
        }
        linearCase(DType.BF16, 200, 1500, 200, true);
        linearCase(DType.F32, 67, 2560, 515, false);
    }

    /** The rows of a huge table that a test fills: both ends, and both sides of the 2³¹-byte and 2³²-element marks. */
    private static int[] filledRows(int vocab, long rowBytes) {
        int atTwoGiB = (int) (((1L << 31) + rowBytes - 1) / rowBytes);
        return new int[] {0, 1, atTwoGiB - 1, atTwoGiB, atTwoGiB + 1, vocab - 3, vocab - 2, vocab - 1};
    }

    /**
     * A [vocab, width] table of {@code dtype} past 2³¹ bytes in lazily backed memory, with random values in
     * {@code rows} and zeros elsewhere; aborts the test (reported as skipped, with the reason printed) only
     * where the host cannot map it or the backend cannot hold it.
     */
    private Tensor hugeTable(DType dtype, int vocab, int width, int[] rows, float[][] values) {
        long bytes = (long) vocab * width * dtype.byteSize();
        HugeTable.Allocation a = HugeTable.allocate(bytes, tck().arena());
        if (a.segment() == null) {
            String reason = "table of " + bytes + " bytes not tested: " + a.reason();
            System.out.println("[conformance] SKIPPED " + reason);
            Assumptions.abort(reason);
        }
        MemorySegment seg = a.segment();
        for (int r = 0; r < rows.length; r++) {
            values[r] = TckContext.rounded(dtype, tck().normal(width, 1.0));
            for (int j = 0; j < width; j++) {
                TckContext.put(seg, dtype, (long) rows[r] * width + j, values[r][j]);
            }
        }
        try {
            return tck().own(backend().weights(dtype, Shape.of(vocab, width), seg, "hugeTable"));
        } catch (OutOfMemoryError e) {
            String reason = "the backend cannot hold a " + dtype + " table of " + bytes + " bytes: " + e;
            System.out.println("[conformance] SKIPPED " + reason);
            Assumptions.abort(reason);
            throw e;
        }
    }

    @Test
    void embeddingTablePast2GiBGathersRowsNearTheEnd() {
        for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
            int width = dtype == DType.F32 ? 4096 : 8192; // 16 KiB rows: 2.49e9 bytes either way
            int[] rows = filledRows(HUGE_VOCAB, (long) width * dtype.byteSize());
            float[][] values = new float[rows.length][];
            Tensor table = hugeTable(dtype, HUGE_VOCAB, width, rows, values);
            int[] tokens = {rows[7], rows[3], rows[0], rows[4], rows[6], rows[2], rows[5], rows[1]};
            Tensor out = tck().zeros("out", tokens.length, width);
            backend().embedding(table, tokens, out);
            double[] expected = new double[tokens.length * width]; // [8, width]
            for (int t = 0; t < tokens.length; t++) {
                for (int r = 0; r < rows.length; r++) {
                    if (rows[r] == tokens[t]) {
                        for (int j = 0; j < width; j++) {
                            expected[t * width + j] = values[r][j];
                        }
                    }
                }
            }
            Check.close("embedding of ids " + java.util.Arrays.toString(tokens) + " from a " + dtype + " table [" + HUGE_VOCAB + ", " + width
                    + "] of " + (long) HUGE_VOCAB * width * dtype.byteSize() + " bytes (rows past byte 2³¹)", new int[] {tokens.length, width},
                    out.toFloatArray(), expected, Tolerances.EXACT);
            out.close();
            table.close();
        }
    }

    /**
     * One F32 LM head of 2.49e9 bytes (streaming it is most of this test's second of CPU time; BF16 tables
     * past 2³¹ bytes are covered by the embedding test, which reads only the rows it gathers).
     */
    @Test
    void linearLmHeadPast2GiB() {
        for (DType dtype : new DType[] {DType.F32}) {
            int width = 4096;
            int[] rows = filledRows(HUGE_VOCAB, (long) width * dtype.byteSize());
            float[][] values = new float[rows.length][];
            Tensor w = hugeTable(dtype, HUGE_VOCAB, width, rows, values);
            int t = 1;
            float[] x = tck().normal(t * width, 1.0);
            Tensor out = tck().zeros("logits", t, HUGE_VOCAB);
            backend().linear(tck().f32(x, "x", t, width), w, null, out);
            double[] expected = new double[t * HUGE_VOCAB]; // [T, V], zero where the table is zero
            double[] scale = new double[t * HUGE_VOCAB];    // [T, V]
            for (int r = 0; r < rows.length; r++) {
                double[] e = Oracle.linear(x, t, width, values[r], 1, null);
                double[] m = Oracle.linearMagnitude(x, t, width, values[r], 1, null);
                for (int i = 0; i < t; i++) {
                    expected[i * HUGE_VOCAB + rows[r]] = e[i];
                    scale[i * HUGE_VOCAB + rows[r]] = m[i];
                }
            }
            Check.close("linear (LM head) x[" + t + ", " + width + "] · w[" + HUGE_VOCAB + ", " + width + "]ᵀ, " + dtype + " weights of "
                    + (long) HUGE_VOCAB * width * dtype.byteSize() + " bytes, rows " + java.util.Arrays.toString(rows) + " non-zero",
                    new int[] {t, HUGE_VOCAB}, out.toFloatArray(), expected, scale, Tolerances.LINEAR);
            out.close();
            w.close();
        }
    }

    @Test
    void rmsNormModelScaleWidths() {
        for (int e : WIDTHS) {
            float[] x = tck().normal(2 * e, 2.0);
            float[] g = tck().normal(e, 0.3);
            Tensor out = tck().zeros("out", 2, e);
            backend().rmsNorm(tck().f32(x, "x", 2, e), tck().f32(g, "gain", e), 1e-5f, out);
            Check.close("rmsNorm over E = " + e, new int[] {2, e}, out.toFloatArray(), Oracle.rmsNorm(x, g, 1e-5), Tolerances.RMS_NORM);
        }
        for (int d : HEAD_DIMS) {
            float[] x = tck().normal(3 * 32 * d, 2.0);
            float[] g = tck().normal(d, 0.3);
            Tensor out = tck().zeros("out", 3, 32 * d);
            backend().rmsNorm(tck().f32(x, "x", 3, 32 * d), tck().f32(g, "gain", d), 1e-6f, out);
            Check.close("rmsNorm as qk-norm, N = 32 heads of D = " + d, new int[] {3, 32 * d}, out.toFloatArray(), Oracle.rmsNorm(x, g, 1e-6),
                    Tolerances.RMS_NORM);
        }
    }

    @Test
    void layerNormModelScaleWidths() {
        for (int e : WIDTHS) {
            float[] x = tck().normal(2 * e, 2.0);
            for (int i = 0; i < x.length; i++) {
                x[i] += 1.5f;
            }
            float[] g = tck().normal(e, 0.3);
            float[] bias = tck().normal(e, 0.5);
            Tensor out = tck().zeros("out", 2, e);
            backend().layerNorm(tck().f32(x, "x", 2, e), tck().f32(g, "gain", e), tck().f32(bias, "bias", e), 1e-5f, out);
            Check.close("layerNorm over E = " + e, new int[] {2, e}, out.toFloatArray(), Oracle.layerNorm(x, g, bias, 1e-5),
                    NormChecks.layerNormScale(x, g, bias, e, 1e-5), Tolerances.LAYER_NORM);
        }
    }

    /** One op over two rows of every model width (up to 13824 elements: several element-wise grains). */
    private interface RowOp {
        void check(int rows, int e, float[] a, float[] b, int[] shape);
    }

    private void everyWidth(RowOp op) {
        for (int e : WIDTHS) {
            int rows = 2;
            op.check(rows, e, tck().normal(rows * e, 3.0), tck().normal(rows * e, 1.0), new int[] {rows, e});
        }
    }

    @Test
    void swigluModelScaleRows() {
        everyWidth((rows, e, a, b, shape) -> {
            Tensor out = tck().zeros("out", rows, e);
            backend().swiglu(tck().f32(a, "gate", rows, e), tck().f32(b, "up", rows, e), out);
            Check.close("swiglu [" + rows + ", " + e + "]", shape, out.toFloatArray(), Oracle.swiglu(a, b), Tolerances.SWIGLU);
        });
    }

    @Test
    void geluModelScaleRows() {
        everyWidth((rows, e, a, b, shape) -> {
            Tensor out = tck().zeros("out", rows, e);
            backend().gelu(tck().f32(a, "x", rows, e), out);
            Check.close("gelu [" + rows + ", " + e + "]", shape, out.toFloatArray(), Oracle.gelu(a), ElementwiseChecks.scaleOf(a),
                    Tolerances.GELU);
        });
    }

    @Test
    void addModelScaleRows() {
        everyWidth((rows, e, a, b, shape) -> {
            Tensor out = tck().zeros("out", rows, e);
            backend().add(tck().f32(a, "a", rows, e), tck().f32(b, "b", rows, e), out);
            Check.close("add [" + rows + ", " + e + "]", shape, out.toFloatArray(), Oracle.add(a, b), Tolerances.ADD);
        });
    }

    @Test
    void softmaxModelScaleRows() {
        everyWidth((rows, e, a, b, shape) -> {
            Tensor out = tck().zeros("out", rows, e);
            backend().softmax(tck().f32(a, "x", rows, e), out);
            Check.close("softmax [" + rows + ", " + e + "]", shape, out.toFloatArray(), Oracle.softmax(a, e), Tolerances.SOFTMAX_LONG);
        });
    }

    @Test
    void mgateModelScaleRows() {
        everyWidth((rows, e, a, b, shape) -> {
            int groups = 4;
            float[] gates = tck().normal(rows * groups, 2.0);
            Tensor out = tck().zeros("out", rows, e);
            backend().mgate(tck().f32(a, "u", rows, e), tck().f32(gates, "gateLogits", rows, groups), out);
            Check.close("mgate [" + rows + ", " + e + "], Mg = 4", shape, out.toFloatArray(), Oracle.mgate(a, gates, rows), Tolerances.MGATE);
        });
    }

    @Test
    void ropeModelHeadDims() {
        for (int d : HEAD_DIMS) {
            for (int rotary : new int[] {d, d / 2}) {
                RopeSpec spec = new RopeSpec(d, rotary, 10000);
                int rows = 3;
                float[] x = tck().normal(rows * 32 * d, 1.0);
                Tensor out = tck().zeros("out", rows, 32 * d);
                backend().rope(tck().f32(x, "x", rows, 32 * d), 2047, spec, out);
                Check.close("rope N = 32, D = " + d + ", Dr = " + rotary + ", positions 2047..2049", new int[] {rows, 32 * d},
                        out.toFloatArray(), Oracle.rope(x, rows, 2047, spec), NormChecks.ropeScale(x, d, rotary), Tolerances.ROPE);
            }
        }
    }

    @Test
    void dynamicWeightsReleasedShapes() {
        int[][] shapes = {{1, 2560, 128}, {3, 2560, 128}, {1, 4096, 128}, {2, 4096, 128}};
        for (int s = 0; s < shapes.length; s++) {
            DType dtype = s % 2 == 0 ? DType.BF16 : DType.F32;
            int rows = shapes[s][0];
            int e = shapes[s][1];
            int k = shapes[s][2];
            int n = 32;
            int rank = 2;
            float[] a = tck().normal(rows * e, 1.0);
            float[] dw1 = TckContext.rounded(dtype, tck().normal(e * 4 * k, 1.5 / Math.sqrt(e)));
            float[] qkw = TckContext.rounded(dtype, tck().normal(4 * k * 2 * rank * n, 1.5 / Math.sqrt(k)));
            float[] dd = TckContext.rounded(dtype, tck().normal(e * 4 * n, 1.0 / Math.sqrt(e)));
            DynamicWeightParams params = new DynamicWeightParams(tck().weights(backend(), dtype, dw1, "dw1", e, 1, 4, k),
                    tck().weights(backend(), dtype, qkw, "qkw", 1, 4, k, 2 * rank, n), tck().weights(backend(), dtype, dd, "dd", e, 1, 4 * n), n, rank);
            Tensor out = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
            backend().dynamicWeights(tck().f32(a, "a", rows, e), params, out);
            Check.close("dynamicWeights " + dtype + " params, T = " + rows + ", E = " + e + ", N = 32, I = 2, K = " + k,
                    new int[] {rows, 4, 2 * rank + 1, n}, out.toFloatArray(), Oracle.dynamicWeights(a, rows, dw1, qkw, dd, n, rank),
                    Tolerances.DYNAMIC_WEIGHTS_MODEL_SCALE);
            // the same tokens finished from their merged projection (rounded to F32, as a linear would give it)
            double[] projection = Oracle.dynamicProjection(a, rows, dw1, dd, n);
            float[] projected = new float[projection.length]; // [T, 4K + 4N]
            double[] rounded = new double[projection.length];
            for (int i = 0; i < projection.length; i++) {
                projected[i] = (float) projection[i];
                rounded[i] = projected[i];
            }
            Tensor finished = tck().zeros("dyn", rows, 4, 2 * rank + 1, n);
            backend().dynamicWeightsFromProjection(tck().f32(projected, "projected", rows, 4 * k + 4 * n), params, finished);
            Check.close("dynamicWeightsFromProjection " + dtype + " qkw, T = " + rows + ", N = 32, I = 2, K = " + k,
                    new int[] {rows, 4, 2 * rank + 1, n}, finished.toFloatArray(),
                    Oracle.dynamicWeightsFromProjection(rounded, rows, qkw, n, rank), Tolerances.DYNAMIC_WEIGHTS_MODEL_SCALE);
        }
    }

    @Test
    void attentionModelHeadDims() {
        for (int d : HEAD_DIMS) {
            int window = d == 80 ? 16 : 0;
            AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, 32, d, 2, window, false, false, 40, 1.0);
            AttentionPlans.runAndCheck(tck(), backend(), "N = 32 heads of D = " + d + ", prefill 17, chunk 19, decodes", c,
                    window == 0 ? 40 : window, new int[] {17, 19, 1, 1, 1, 1}, Tolerances.ATTENTION);
        }
        AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, 32, 128, 2, 0, false, false, 1, 1.0);
        AttentionPlans.runAndCheck(tck(), backend(), "N = 32, D = 128, decode at position 0", c, 1, new int[] {1}, Tolerances.ATTENTION);
    }
}
