package io.dcformer4j.api;

/**
 * The host side of {@link Backend#dynamicWeightsFromProjection}'s default: spec §2.2 after the projections. The
 * backend's own exact {@link Backend#gelu} makes u (so no second GELU is written here); the qkw product and the
 * RMS over heads sum in double, tanh is {@link Math#tanh}, and each output is rounded to F32 once. Slow (a host
 * round trip per call) but exact enough for any backend that does not override it.
 */
final class DynamicWeightsOnHost {
    private static final double RMS_EPS = 1e-6;

    private DynamicWeightsOnHost() {
    }

    /** The 4K columns of every row of projected [T, 4K + 4N] that GELU takes, as [T, 4K]. */
    static float[] geluInputs(float[] projected, OpChecks.DynamicWeightSizes s) {
        int k4 = 4 * s.hidden();
        int cols = k4 + 4 * s.heads();
        float[] z = new float[s.rows() * k4]; // [T, 4K]
        for (int row = 0; row < s.rows(); row++) {
            System.arraycopy(projected, row * cols, z, row * k4, k4);
        }
        return z;
    }

    /** out [T, 4, 2I+1, N] from u = GELU(a·dw1) [T, 4K], projected [T, 4K + 4N] (for a·dd) and qkw [1, 4, K, 2I, N]. */
    static float[] finish(float[] u, float[] projected, float[] qkw, OpChecks.DynamicWeightSizes s) {
        int t = s.rows();
        int k = s.hidden();
        int n = s.heads();
        int rank = s.rank();
        int i2 = 2 * rank;
        int cols = 4 * k + 4 * n;
        int perSlot = (i2 + 1) * n;
        float[] out = new float[t * 4 * perSlot]; // [T, 4, 2I+1, N]
        double[] r = new double[i2 * n];          // [2I, N]
        for (int row = 0; row < t; row++) {
            int p = row * cols;
            for (int c = 0; c < 4; c++) {
                for (int j = 0; j < i2 * n; j++) {
                    double sum = 0;
                    for (int kk = 0; kk < k; kk++) {
                        sum += (double) u[(row * 4 + c) * k + kk] * qkw[(c * k + kk) * i2 * n + j];
                    }
                    r[j] = sum;
                }
                int base = (row * 4 + c) * perSlot;
                for (int i = 0; i < rank; i++) {
                    double meanSquare = 0;
                    for (int h = 0; h < n; h++) {
                        meanSquare += r[i * n + h] * r[i * n + h];
                    }
                    double inv = 1.0 / Math.sqrt(meanSquare / n + RMS_EPS);
                    for (int h = 0; h < n; h++) {
                        out[base + i * n + h] = (float) (r[i * n + h] * inv);
                        out[base + (rank + i) * n + h] = (float) r[(rank + i) * n + h];
                    }
                }
                for (int h = 0; h < n; h++) {
                    out[base + i2 * n + h] = (float) Math.tanh(projected[p + 4 * k + c * n + h]);
                }
            }
        }
        return out;
    }
}
