package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/** rmsNorm (block norm and grouped qk-norm), layerNorm and RoPE. */
abstract class NormChecks extends Checks {

    private float[] gain(int n) {
        float[] g = tck().normal(n, 0.3);
        for (int i = 0; i < n; i++) {
            g[i] += 1f;
        }
        return g;
    }

    private void rmsCase(int rows, int width, int group, float eps, String what) {
        float[] x = tck().normal(rows * width, 2.0);
        float[] g = gain(group);
        Tensor out = tck().zeros("out", rows, width);
        backend().rmsNorm(tck().f32(x, "x", rows, width), tck().f32(g, "gain", group), eps, out);
        Check.close(what, new int[] {rows, width}, out.toFloatArray(), Oracle.rmsNorm(x, g, eps), Tolerances.RMS_NORM);
    }

    @Test
    void rmsNormAwkwardWidths() {
        for (int e : AWKWARD) {
            rmsCase(e >= 1000 ? 2 : 3, e, e, 1e-5f, "rmsNorm over E = " + e);
        }
    }

    @Test
    void rmsNormGroupedAsQkNorm() {
        rmsCase(5, 4 * 16, 16, 1e-6f, "rmsNorm as qk-norm, N = 4 heads of D = 16");
        rmsCase(3, 3 * 7, 7, 1e-6f, "rmsNorm as qk-norm, N = 3 heads of D = 7");
        rmsCase(2, 5 * 65, 65, 1e-6f, "rmsNorm as qk-norm, N = 5 heads of D = 65");
    }

    @Test
    void rmsNormNaNPropagates() {
        int d = 8;
        float[] x = tck().normal(2 * 3 * d, 1.0);
        x[d + 3] = Float.NaN;
        float[] g = gain(d);
        Tensor out = tck().zeros("out", 2, 3 * d);
        backend().rmsNorm(tck().f32(x, "x", 2, 3 * d), tck().f32(g, "gain", d), 1e-6f, out);
        Check.close("rmsNorm with NaN in group 1 of row 0 (that group NaN, the others finite)", new int[] {2, 3 * d},
                out.toFloatArray(), Oracle.rmsNorm(x, g, 1e-6), Tolerances.RMS_NORM);
    }

    @Test
    void rmsNormRejectsIndivisibleWidth() {
        Tensor x = tck().zeros("x", 2, 10);
        Tensor gain = tck().zeros("gain", 3);
        Tensor out = tck().zeros("out", 2, 10);
        assertThatThrownBy(() -> backend().rmsNorm(x, gain, 1e-6f, out)).as("rmsNorm of width 10 in groups of 3")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor wrongOut = tck().zeros("wrongOut", 2, 9);
        Tensor gain5 = tck().zeros("gain5", 5);
        assertThatThrownBy(() -> backend().rmsNorm(x, gain5, 1e-6f, wrongOut)).as("rmsNorm [2, 10] into [2, 9]")
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void layerNormAwkwardWidths() {
        for (int e : AWKWARD) {
            int rows = e >= 1000 ? 2 : 3;
            float[] x = tck().normal(rows * e, 2.0);
            for (int i = 0; i < x.length; i++) {
                x[i] += 3f;
            }
            float[] g = gain(e);
            float[] b = tck().normal(e, 0.5);
            Tensor out = tck().zeros("out", rows, e);
            backend().layerNorm(tck().f32(x, "x", rows, e), tck().f32(g, "gain", e), tck().f32(b, "bias", e), 1e-5f, out);
            double[] expected = Oracle.layerNorm(x, g, b, 1e-5);
            Check.close("layerNorm over E = " + e, new int[] {rows, e}, out.toFloatArray(), expected, layerNormScale(x, g, b, e, 1e-5),
                    Tolerances.LAYER_NORM);
        }
    }

    /**
     * The magnitude of what layerNorm computes per element, |g|·(|x| + |μ|)/σ + |b|: x − μ cancels, so the
     * float32 rounding of x and μ (not of the small difference) sets the error.
     */
    static double[] layerNormScale(float[] x, float[] g, float[] b, int e, double eps) {
        double[] scale = new double[x.length]; // [rows, E]
        for (int start = 0; start < x.length; start += e) {
            double mean = 0;
            for (int j = 0; j < e; j++) {
                mean += x[start + j];
            }
            mean /= e;
            double variance = 0;
            for (int j = 0; j < e; j++) {
                variance += (x[start + j] - mean) * (x[start + j] - mean);
            }
            double sigma = Math.sqrt(variance / e + eps);
            for (int j = 0; j < e; j++) {
                scale[start + j] = Math.abs(g[j]) * (Math.abs(x[start + j]) + Math.abs(mean)) / sigma + Math.abs(b[j]);
            }
        }
        return scale;
    }

    private void ropeCase(int rows, int heads, int headDim, int rotaryDim, int startPos, double base) {
        RopeSpec spec = new RopeSpec(headDim, rotaryDim, base);
        float[] x = tck().normal(rows * heads * headDim, 1.0);
        Tensor out = tck().zeros("out", rows, heads * headDim);
        backend().rope(tck().f32(x, "x", rows, heads * headDim), startPos, spec, out);
        double[] scale = ropeScale(x, headDim, rotaryDim);
        Check.close("rope T = " + rows + ", H = " + heads + ", D = " + headDim + ", Dr = " + rotaryDim + ", start " + startPos
                + ", base " + base, new int[] {rows, heads * headDim}, out.toFloatArray(), Oracle.rope(x, rows, startPos, spec),
                scale, Tolerances.ROPE);
    }

    /** |a| + |b| of each element's rotation pair (the element itself where it is not rotated). */
    static double[] ropeScale(float[] x, int headDim, int rotaryDim) {
        double[] scale = new double[x.length]; // [T, H·D]
        int half = rotaryDim / 2;
        for (int i = 0; i < x.length; i++) {
            int j = i % headDim;
            int partner = j < half ? i + half : j < rotaryDim ? i - half : i;
            scale[i] = Math.abs(x[i]) + Math.abs(x[partner]);
        }
        return scale;
    }

    @Test
    void ropeFullRotary() {
        ropeCase(1, 1, 2, 2, 0, 10000);
        ropeCase(3, 3, 8, 8, 5, 10000);
        ropeCase(17, 4, 16, 16, 0, 500000);
        ropeCase(2, 2, 80, 80, 63, 10000);
    }

    @Test
    void ropePartialRotary() {
        ropeCase(7, 2, 16, 4, 3, 10000);
        ropeCase(3, 3, 10, 6, 0, 10000);
        ropeCase(2, 1, 128, 32, 17, 10000);
        ropeCase(2, 2, 7, 0, 9, 10000);
    }

    @Test
    void ropeLargePositions() {
        ropeCase(3, 2, 16, 16, 4000, 10000);
        ropeCase(2, 2, 32, 32, 2047, 500000);
    }

    @Test
    void ropeRejectsWidthNotMultipleOfHeadDim() {
        Tensor x = tck().zeros("x", 2, 10);
        Tensor out = tck().zeros("out", 2, 10);
        assertThatThrownBy(() -> backend().rope(x, 0, new RopeSpec(4, 4, 10000), out)).as("rope of width 10 with D = 4")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
