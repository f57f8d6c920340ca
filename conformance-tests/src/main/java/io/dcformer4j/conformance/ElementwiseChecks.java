package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

/** add, swiglu, gelu, softmax and mgate on awkward widths, large logits and NaN. */
abstract class ElementwiseChecks extends Checks {

    private static int rowsFor(int width) {
        return width >= 1000 ? 1 : 3;
    }

    @Test
    void addAwkwardSizes() {
        for (int n : AWKWARD) {
            int rows = rowsFor(n);
            float[] a = tck().normal(rows * n, 2.0);
            float[] b = tck().normal(rows * n, 2.0);
            Tensor at = tck().f32(a, "a", rows, n);
            Tensor out = tck().zeros("out", rows, n);
            backend().add(at, tck().f32(b, "b", rows, n), out);
            Check.close("add [" + rows + ", " + n + "]", new int[] {rows, n}, out.toFloatArray(), Oracle.add(a, b), Tolerances.ADD);
            backend().add(at, tck().f32(b, "b", rows, n), at);
            Check.close("add in place (out = a) [" + rows + ", " + n + "]", new int[] {rows, n}, at.toFloatArray(), Oracle.add(a, b),
                    Tolerances.ADD);
        }
    }

    @Test
    void swigluAwkwardSizes() {
        for (int n : AWKWARD) {
            int rows = rowsFor(n);
            float[] gate = tck().normal(rows * n, 3.0);
            float[] up = tck().normal(rows * n, 1.0);
            Tensor out = tck().zeros("out", rows, n);
            backend().swiglu(tck().f32(gate, "gate", rows, n), tck().f32(up, "up", rows, n), out);
            Check.close("swiglu [" + rows + ", " + n + "]", new int[] {rows, n}, out.toFloatArray(), Oracle.swiglu(gate, up),
                    Tolerances.SWIGLU);
        }
    }

    @Test
    void geluExactErfAwkwardSizes() {
        for (int n : AWKWARD) {
            int rows = rowsFor(n);
            float[] x = tck().normal(rows * n, 3.0);
            x[0] = n > 1 ? -9.5f : 0.7f;
            Tensor xt = tck().f32(x, "x", rows, n);
            Tensor out = tck().zeros("out", rows, n);
            backend().gelu(xt, out);
            Check.close("gelu (exact erf) [" + rows + ", " + n + "]", new int[] {rows, n}, out.toFloatArray(), Oracle.gelu(x),
                    scaleOf(x), Tolerances.GELU);
            backend().gelu(xt, xt);
            Check.close("gelu in place [" + rows + ", " + n + "]", new int[] {rows, n}, xt.toFloatArray(), Oracle.gelu(x),
                    scaleOf(x), Tolerances.GELU);
        }
    }

    /** |x| as the error scale of GELU (an erf error is absolute in Φ, multiplied by x). */
    static double[] scaleOf(float[] x) {
        double[] s = new double[x.length]; // same shape as x
        for (int i = 0; i < x.length; i++) {
            s[i] = Math.abs(x[i]);
        }
        return s;
    }

    @Test
    void softmaxAwkwardWidths() {
        for (int n : AWKWARD) {
            int rows = rowsFor(n);
            float[] x = tck().normal(rows * n, 3.0);
            Tensor out = tck().zeros("out", rows, n);
            backend().softmax(tck().f32(x, "x", rows, n), out);
            Check.close("softmax [" + rows + ", " + n + "]", new int[] {rows, n}, out.toFloatArray(), Oracle.softmax(x, n),
                    Tolerances.SOFTMAX);
        }
    }

    @Test
    void softmaxLargeLogitsDoNotOverflow() {
        int n = 65;
        float[] x = new float[4 * n]; // [4, 65]
        float[] spread = tck().uniform(4 * n, -20, 20);
        for (int j = 0; j < n; j++) {
            x[j] = 1e4f + spread[j];                 // would overflow exp without max subtraction
            x[n + j] = -1e4f + spread[n + j];        // would underflow to 0/0
            x[2 * n + j] = 1e4f;                     // all equal and huge
            x[3 * n + j] = 89f + spread[3 * n + j];  // exp(89) already overflows float32
        }
        Tensor out = tck().zeros("out", 4, n);
        backend().softmax(tck().f32(x, "x", 4, n), out);
        Check.close("softmax of logits near ±1e4 and 89 (max subtraction required)", new int[] {4, n}, out.toFloatArray(),
                Oracle.softmax(x, n), Tolerances.SOFTMAX);
    }

    @Test
    void softmaxNaNPropagates() {
        int n = 17;
        float[] x = tck().normal(3 * n, 1.0);
        x[n + 16] = Float.NaN;
        Tensor out = tck().zeros("out", 3, n);
        backend().softmax(tck().f32(x, "x", 3, n), out);
        Check.close("softmax with NaN at [1, 16] (row 1 must be all NaN, rows 0 and 2 untouched)", new int[] {3, n},
                out.toFloatArray(), Oracle.softmax(x, n), Tolerances.SOFTMAX);
    }

    @Test
    void mgateGroups() {
        for (int groups : new int[] {1, 3, 4, 7}) {
            for (int perGroup : new int[] {1, 3, 17}) {
                int rows = 3;
                int f = groups * perGroup;
                float[] u = tck().normal(rows * f, 1.0);
                float[] g = tck().normal(rows * groups, 2.0);
                Tensor out = tck().zeros("out", rows, f);
                backend().mgate(tck().f32(u, "u", rows, f), tck().f32(g, "gateLogits", rows, groups), out);
                Check.close("mgate with Mg = " + groups + ", P = " + perGroup, new int[] {rows, f}, out.toFloatArray(),
                        Oracle.mgate(u, g, rows), Tolerances.MGATE);
            }
        }
    }

    @Test
    void mgateLargeGateLogitsDoNotOverflowSoftmax() {
        int groups = 4;
        int perGroup = 3;
        float[] u = tck().normal(2 * groups * perGroup, 1.0);
        float[] g = {1e4f, 1e4f - 3, 1e4f + 1, 1e4f - 40, -1e4f, -1e4f + 2, -1e4f, -1e4f - 1};
        Tensor out = tck().zeros("out", 2, groups * perGroup);
        backend().mgate(tck().f32(u, "u", 2, groups * perGroup), tck().f32(g, "gateLogits", 2, groups), out);
        Check.close("mgate with gate logits near ±1e4 (softmax max subtraction required)", new int[] {2, groups * perGroup},
                out.toFloatArray(), Oracle.mgate(u, g, 2), Tolerances.MGATE);
    }

    @Test
    void elementwiseRejectsMismatchedShapes() {
        Tensor a = tck().zeros("a", 2, 3);
        Tensor b = tck().zeros("b", 3, 2);
        Tensor c = tck().zeros("c", 2, 4);
        Tensor out = tck().zeros("out", 2, 3);
        assertThatThrownBy(() -> backend().add(a, b, out)).as("add [2, 3] + [3, 2]").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().add(a, a, c)).as("add into [2, 4]").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().swiglu(a, c, out)).as("swiglu gate [2, 3], up [2, 4]")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().gelu(a, c)).as("gelu [2, 3] into [2, 4]").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().softmax(a, c)).as("softmax [2, 3] into [2, 4]").isInstanceOf(IllegalArgumentException.class);
        Tensor gates = tck().zeros("gates", 2, 2);
        assertThatThrownBy(() -> backend().mgate(a, gates, out)).as("mgate with F = 3 not divisible by Mg = 2")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
