package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/**
 * 1, 2, 3, 4 and 7 workers: every result against the oracle and against the one-worker result, on sizes
 * that leave remainders for every split (users' machines have more than two cores, and odd counts leave
 * uneven chunks). Attention decodes reach past 7 × 256 keys so that a key-split decode uses all 7 workers.
 */
abstract class WorkerCountChecks extends Checks {
    static final int[] WORKERS = {1, 2, 3, 4, 7};

    private interface Op {
        float[] run(Backend b);
    }

    /** Runs {@code op} with every worker count; each result against the oracle, then against 1 worker. */
    private void everyCount(String what, int[] shape, Op op, double[] expected, double[] scale, Tolerance tolerance) {
        float[] single = null;
        for (int threads : WORKERS) {
            Backend b = tck().open(threads);
            float[] result = op.run(b);
            Check.close(what + " with " + threads + " worker(s)", shape, result, expected, scale, tolerance);
            if (single == null) {
                single = result;
            } else {
                Check.agree(what, shape, result, threads + " workers", single, "1 worker", Tolerances.WORKERS);
            }
        }
    }

    @Test
    void linearAgreesAcrossWorkerCounts1To7() {
        int[][] shapes = {{1, 1500, 1001}, {2, 700, 333}, {37, 300, 203}, {200, 65, 97}};
        for (int[] s : shapes) {
            int rows = s[0];
            int in = s[1];
            int outDim = s[2];
            float[] x = tck().normal(rows * in, 1.0);
            float[] w = TckContext.rounded(DType.BF16, tck().normal(outDim * in, 0.5));
            everyCount("linear BF16 x[" + rows + ", " + in + "] · w[" + outDim + ", " + in + "]ᵀ", new int[] {rows, outDim}, b -> {
                Tensor out = tck().tensor(b, DType.F32, new float[rows * outDim], "out", rows, outDim);
                b.linear(tck().tensor(b, DType.F32, x, "x", rows, in), tck().weights(b, DType.BF16, w, "w", outDim, in), null, out);
                return out.toFloatArray();
            }, Oracle.linear(x, rows, in, w, outDim, null), Oracle.linearMagnitude(x, rows, in, w, outDim, null), Tolerances.LINEAR);
        }
    }

    @Test
    void rmsNormAgreesAcrossWorkerCounts1To7() {
        int rows = 37;
        int width = 300;
        float[] x = tck().normal(rows * width, 2.0);
        float[] g = tck().normal(width, 0.5);
        everyCount("rmsNorm [37, 300]", new int[] {rows, width}, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.rmsNorm(tck().tensor(b, DType.F32, x, "x", rows, width), tck().tensor(b, DType.F32, g, "gain", width), 1e-5f, out);
            return out.toFloatArray();
        }, Oracle.rmsNorm(x, g, 1e-5), null, Tolerances.RMS_NORM);
        float[] gq = tck().normal(20, 0.5);
        everyCount("rmsNorm as qk-norm [37, 15 heads × 20]", new int[] {rows, width}, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.rmsNorm(tck().tensor(b, DType.F32, x, "x", rows, width), tck().tensor(b, DType.F32, gq, "gain", 20), 1e-6f, out);
            return out.toFloatArray();
        }, Oracle.rmsNorm(x, gq, 1e-6), null, Tolerances.RMS_NORM);
    }

    @Test
    void layerNormAgreesAcrossWorkerCounts1To7() {
        int rows = 29;
        int width = 1500;
        float[] x = tck().normal(rows * width, 2.0);
        float[] g = tck().normal(width, 0.5);
        float[] bias = tck().normal(width, 0.5);
        everyCount("layerNorm [29, 1500]", new int[] {rows, width}, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.layerNorm(tck().tensor(b, DType.F32, x, "x", rows, width), tck().tensor(b, DType.F32, g, "gain", width),
                    tck().tensor(b, DType.F32, bias, "bias", width), 1e-5f, out);
            return out.toFloatArray();
        }, Oracle.layerNorm(x, g, bias, 1e-5), NormChecks.layerNormScale(x, g, bias, width, 1e-5), Tolerances.LAYER_NORM);
    }

    @Test
    void elementwiseAgreesAcrossWorkerCounts1To7() {
        int rows = 13;
        int width = 1501; // 19513 elements: several element-wise grains, none a multiple of a vector
        float[] a = tck().normal(rows * width, 3.0);
        float[] c = tck().normal(rows * width, 1.0);
        int[] shape = {rows, width};
        everyCount("swiglu [13, 1501]", shape, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.swiglu(tck().tensor(b, DType.F32, a, "gate", rows, width), tck().tensor(b, DType.F32, c, "up", rows, width), out);
            return out.toFloatArray();
        }, Oracle.swiglu(a, c), null, Tolerances.SWIGLU);
        everyCount("gelu [13, 1501]", shape, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.gelu(tck().tensor(b, DType.F32, a, "x", rows, width), out);
            return out.toFloatArray();
        }, Oracle.gelu(a), ElementwiseChecks.scaleOf(a), Tolerances.GELU);
        everyCount("add [13, 1501]", shape, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.add(tck().tensor(b, DType.F32, a, "a", rows, width), tck().tensor(b, DType.F32, c, "b", rows, width), out);
            return out.toFloatArray();
        }, Oracle.add(a, c), null, Tolerances.ADD);
        everyCount("softmax [13, 1501]", shape, b -> {
            Tensor out = tck().tensor(b, DType.F32, new float[rows * width], "out", rows, width);
            b.softmax(tck().tensor(b, DType.F32, a, "x", rows, width), out);
            return out.toFloatArray();
        }, Oracle.softmax(a, width), null, Tolerances.SOFTMAX_LONG);
    }

    @Test
    void attentionAgreesAcrossWorkerCounts1To7() {
        int total = 1900;
        AttentionCase global = AttentionCase.random(tck(), AttentionMode.PLAIN_MHA, 4, 8, 2, 0, false, false, total, 1.0);
        int[] plan = {1, 1, 1, 41, 1, 1820, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
        plan = AttentionPlans.withTotal(plan, total);
        agreeAcrossCounts("plain MHA, global, decodes up to 1900 keys", global, total, plan);
        AttentionCase dcmha = AttentionCase.random(tck(), AttentionMode.DCMHA, 4, 8, 2, 0, false, false, 600, 1.0);
        agreeAcrossCounts("DCMHA, global, decodes up to 600 keys", dcmha, 600, AttentionPlans.withTotal(new int[] {1, 45, 1, 540, 1, 1, 1}, 600));
        AttentionCase local = AttentionCase.random(tck(), AttentionMode.DCMHA, 4, 8, 2, 300, false, false, 700, 1.0);
        agreeAcrossCounts("DCMHA, local W = 300", local, 300, AttentionPlans.withTotal(new int[] {1, 650, 1, 1, 1}, 700));
    }

    private void agreeAcrossCounts(String what, AttentionCase c, int capacity, int[] plan) {
        float[] single = null;
        int total = AttentionPlans.length(plan);
        for (int threads : WORKERS) {
            Backend b = tck().open(threads);
            float[] out = AttentionPlans.runAndCheck(tck(), b, what + " with " + threads + " worker(s)", c, capacity, plan,
                    Tolerances.ATTENTION_LONG);
            if (single == null) {
                single = out;
            } else {
                Check.agree("attention, " + what, new int[] {total, c.n, c.d}, out, threads + " workers", single, "1 worker", Tolerances.WORKERS);
            }
        }
    }
}
