package io.dcformer4j.conformance;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.RopeSpec;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The float64 scalar definition of every element-wise, matrix and normalisation operation of
 * {@link io.dcformer4j.api.Backend} (attention lives in {@link OracleAttention}). Inputs are the exact
 * float32 values a backend receives; everything after that is computed in double, written the way the
 * spec states it. It is meant to be read, never to be fast.
 */
public final class Oracle {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Oracle() {
    }

    /** Decodes raw little-endian weight bytes exactly (BF16 and F16 widen without rounding). */
    public static float[] decode(DType dtype, MemorySegment bytes, int count) {
        float[] out = new float[count]; // [count]
        for (int i = 0; i < count; i++) {
            out[i] = switch (dtype) {
                case F32 -> bytes.getAtIndex(FLOAT_LE, i);
                case BF16 -> Numerics.bf16ToFloat(bytes.getAtIndex(SHORT_LE, i));
                case F16 -> Numerics.f16ToFloat(bytes.getAtIndex(SHORT_LE, i));
                case I32 -> throw new IllegalArgumentException("I32 is not a weight type");
                case Q8_0 -> Q8_0Format.get(bytes, 0, i);
            };
        }
        return out;
    }

    /** {@code out[t, :] = table[tokens[t], :]}; table [V, E]. */
    public static double[] embedding(float[] table, int width, int[] tokens) {
        double[] out = new double[tokens.length * width]; // [T, E]
        for (int t = 0; t < tokens.length; t++) {
            for (int e = 0; e < width; e++) {
                out[t * width + e] = table[tokens[t] * width + e];
            }
        }
        return out;
    }

    /** {@code out = x · wᵀ + bias}: x [T, in], w [out, in], bias [out] or null. */
    public static double[] linear(float[] x, int rows, int in, float[] w, int outDim, float[] bias) {
        double[] out = new double[rows * outDim]; // [T, out]
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < outDim; o++) {
                double sum = bias == null ? 0.0 : bias[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) x[t * in + i] * w[o * in + i];
                }
                out[t * outDim + o] = sum;
            }
        }
        return out;
    }

    /**
     * {@code out = x · wᵀ + bias} with Q8_0 weights given as their blocks (w [out, in], in a multiple of 32):
     * each block's F16 scale d times each signed byte q is the weight, as {@link io.dcformer4j.api.DType#Q8_0}
     * defines it.
     */
    public static double[] linearQ8_0(float[] x, int rows, int in, byte[] blocks, int outDim, float[] bias) {
        int perRow = in / Q8_0Format.BLOCK;
        double[] out = new double[rows * outDim]; // [T, out]
        for (int t = 0; t < rows; t++) {
            for (int o = 0; o < outDim; o++) {
                double sum = bias == null ? 0.0 : bias[o];
                for (int b = 0; b < perRow; b++) {
                    int at = (o * perRow + b) * Q8_0Format.BLOCK_BYTES;
                    double d = Numerics.f16ToFloat((short) ((blocks[at] & 0xff) | (blocks[at + 1] & 0xff) << 8));
                    for (int j = 0; j < Q8_0Format.BLOCK; j++) {
                        int q = blocks[at + 2 + j];
                        sum += (double) x[t * in + b * Q8_0Format.BLOCK + j] * (d * q);
                    }
                }
                out[t * outDim + o] = sum;
            }
        }
        return out;
    }

    /**
     * The magnitude of the terms each linear output sums, Σ|x·w| + |bias|: the scale against which a
     * float32 accumulation error is judged (cancellation does not make the error smaller).
     */
    public static double[] linearMagnitude(float[] x, int rows, int in, float[] w, int outDim, float[] bias) {
        return linear(abs(x), rows, in, abs(w), outDim, bias == null ? null : abs(bias));
    }

    /** RMS normalisation of every contiguous group of {@code gain.length} elements. */
    public static double[] rmsNorm(float[] x, float[] gain, double eps) {
        int g = gain.length;
        double[] out = new double[x.length]; // same shape as x
        for (int start = 0; start < x.length; start += g) {
            double meanSquare = 0;
            for (int j = 0; j < g; j++) {
                meanSquare += (double) x[start + j] * x[start + j];
            }
            meanSquare /= g;
            double inv = 1.0 / Math.sqrt(meanSquare + eps);
            for (int j = 0; j < g; j++) {
                out[start + j] = gain[j] * (x[start + j] * inv);
            }
        }
        return out;
    }

    /** LayerNorm over rows of {@code gain.length}: population variance. */
    public static double[] layerNorm(float[] x, float[] gain, float[] bias, double eps) {
        int e = gain.length;
        double[] out = new double[x.length]; // same shape as x
        for (int start = 0; start < x.length; start += e) {
            double mean = 0;
            for (int j = 0; j < e; j++) {
                mean += x[start + j];
            }
            mean /= e;
            double variance = 0;
            for (int j = 0; j < e; j++) {
                double d = x[start + j] - mean;
                variance += d * d;
            }
            variance /= e;
            double inv = 1.0 / Math.sqrt(variance + eps);
            for (int j = 0; j < e; j++) {
                out[start + j] = gain[j] * ((x[start + j] - mean) * inv) + bias[j];
            }
        }
        return out;
    }

    /**
     * Rotary embedding (spec §1.4) of x [T, H·D], row t at position {@code startPos + t}: half layout,
     * the first Dr components of each head rotated. The angle is the float32 product of the position and
     * the float32 inverse frequency, as the reference computes it; cos and sin are then taken in double.
     */
    public static double[] rope(float[] x, int rows, int startPos, RopeSpec spec) {
        int d = spec.headDim();
        int half = spec.rotaryDim() / 2;
        int heads = x.length / rows / d;
        double[] out = new double[x.length]; // [T, H·D]
        for (int t = 0; t < rows; t++) {
            int position = startPos + t;
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * d;
                for (int j = 0; j < d; j++) {
                    out[base + j] = x[base + j];
                }
                for (int j = 0; j < half; j++) {
                    float theta = (float) position * spec.invFreq(j);
                    double c = Math.cos(theta);
                    double s = Math.sin(theta);
                    double a = x[base + j];
                    double b = x[base + j + half];
                    out[base + j] = a * c - b * s;
                    out[base + j + half] = b * c + a * s;
                }
            }
        }
        return out;
    }

    /** silu(gate) ⊙ up. */
    public static double[] swiglu(float[] gate, float[] up) {
        double[] out = new double[gate.length]; // same shape as gate
        for (int i = 0; i < gate.length; i++) {
            double z = gate[i];
            out[i] = z / (1.0 + Math.exp(-z)) * up[i];
        }
        return out;
    }

    /** The mgate gating: per row, softmax over Mg gate logits scales Mg contiguous groups of u [T, F]. */
    public static double[] mgate(float[] u, float[] gateLogits, int rows) {
        int f = u.length / rows;
        int groups = gateLogits.length / rows;
        int p = f / groups;
        double[] out = new double[u.length]; // [T, F]
        for (int t = 0; t < rows; t++) {
            double[] g = softmaxRow(gateLogits, t * groups, groups);
            for (int e = 0; e < groups; e++) {
                for (int j = 0; j < p; j++) {
                    out[t * f + e * p + j] = g[e] * u[t * f + e * p + j];
                }
            }
        }
        return out;
    }

    /** Exact GELU: z · ½(1 + erf(z/√2)), written with erfc so the negative tail keeps its precision. */
    public static double gelu(double z) {
        return z * 0.5 * Erf.erfc(-z / Math.sqrt(2.0));
    }

    /** Exact GELU of every element. */
    public static double[] gelu(float[] x) {
        double[] out = new double[x.length]; // same shape as x
        for (int i = 0; i < x.length; i++) {
            out[i] = gelu(x[i]);
        }
        return out;
    }

    /** a + b. */
    public static double[] add(float[] a, float[] b) {
        double[] out = new double[a.length]; // same shape as a
        for (int i = 0; i < a.length; i++) {
            out[i] = (double) a[i] + b[i];
        }
        return out;
    }

    /** Max-subtracted softmax over rows of {@code width}. */
    public static double[] softmax(float[] x, int width) {
        double[] out = new double[x.length]; // same shape as x
        for (int start = 0; start < x.length; start += width) {
            double[] row = softmaxRow(x, start, width);
            System.arraycopy(row, 0, out, start, width);
        }
        return out;
    }

    /** Softmax of {@code x[from .. from+n)}; a NaN anywhere makes the whole row NaN. */
    static double[] softmaxRow(float[] x, int from, int n) {
        double[] row = new double[n]; // [n]
        for (int i = 0; i < n; i++) {
            row[i] = x[from + i];
        }
        return softmaxInPlace(row, n);
    }

    /** Softmax of the first n entries of row, in place; NaN propagates to the whole row. */
    static double[] softmaxInPlace(double[] row, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, row[i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            row[i] = Math.exp(row[i] - max);
            sum += row[i];
        }
        for (int i = 0; i < n; i++) {
            row[i] /= sum;
        }
        return row;
    }

    /**
     * The DCMHA dynamic weights (spec §2.2) of every row of a [T, E] into [T, 4, 2I+1, N]: per slot c,
     * rows 0..I−1 are w1 (RMS-normalised over heads, eps 1e-6), rows I..2I−1 are w2, row 2I is dg.
     *
     * @param dw1 [E, 1, 4, K]
     * @param qkw [1, 4, K, 2I, N]
     * @param dd  [E, 1, 4N]
     */
    public static double[] dynamicWeights(float[] a, int rows, float[] dw1, float[] qkw, float[] dd, int heads, int rank) {
        return dynamicWeightsFromProjection(dynamicProjection(a, rows, dw1, dd, heads), rows, qkw, heads, rank);
    }

    /**
     * Spec §2.2's merged projection a · dw_m of every token, before GELU and tanh: [T, 4K + 4N], columns c·K + k
     * (a · dw1[:, 0, c, k]) then 4K + c·N + n (a · dd[:, 0, c·N + n]).
     */
    public static double[] dynamicProjection(float[] a, int rows, float[] dw1, float[] dd, int heads) {
        if (rows == 0) {
            return new double[0];
        }
        int e = a.length / rows;
        int k4 = dw1.length / e;
        int n4 = 4 * heads;
        int cols = k4 + n4;
        double[] out = new double[rows * cols]; // [T, 4K + 4N]
        for (int t = 0; t < rows; t++) {
            for (int j = 0; j < cols; j++) {
                double z = 0;
                for (int ee = 0; ee < e; ee++) {
                    z += (double) a[t * e + ee] * (j < k4 ? dw1[ee * k4 + j] : dd[ee * n4 + j - k4]);
                }
                out[t * cols + j] = z;
            }
        }
        return out;
    }

    /**
     * The dynamic weights [T, 4, 2I+1, N] from the merged projection [T, 4K + 4N] ({@link #dynamicProjection}):
     * u = GELU of the first 4K columns, r = u · qkw per slot, w1 rows RMS-normalised over heads, w2 as is,
     * dg = tanh of the last 4N columns.
     */
    public static double[] dynamicWeightsFromProjection(double[] projected, int rows, float[] qkw, int heads, int rank) {
        int n = heads;
        int i2 = 2 * rank;
        int k = qkw.length / (4 * i2 * n);
        int cols = 4 * k + 4 * n;
        int perSlot = (i2 + 1) * n;
        double[] out = new double[rows * 4 * perSlot]; // [T, 4, 2I+1, N]
        for (int t = 0; t < rows; t++) {
            for (int c = 0; c < 4; c++) {
                double[] u = new double[k]; // [K]
                for (int kk = 0; kk < k; kk++) {
                    u[kk] = gelu(projected[t * cols + c * k + kk]);
                }
                double[] r = new double[i2 * n]; // [2I, N]
                for (int j = 0; j < i2; j++) {
                    for (int h = 0; h < n; h++) {
                        double sum = 0;
                        for (int kk = 0; kk < k; kk++) {
                            sum += u[kk] * qkw[((c * k + kk) * i2 + j) * n + h];
                        }
                        r[j * n + h] = sum;
                    }
                }
                int base = (t * 4 + c) * perSlot;
                for (int i = 0; i < rank; i++) {
                    double meanSquare = 0;
                    for (int h = 0; h < n; h++) {
                        meanSquare += r[i * n + h] * r[i * n + h];
                    }
                    double inv = 1.0 / Math.sqrt(meanSquare / n + 1e-6);
                    for (int h = 0; h < n; h++) {
                        out[base + i * n + h] = r[i * n + h] * inv;
                        out[base + (rank + i) * n + h] = r[(rank + i) * n + h];
                    }
                }
                for (int h = 0; h < n; h++) {
                    out[base + i2 * n + h] = Math.tanh(projected[t * cols + 4 * k + c * n + h]);
                }
            }
        }
        return out;
    }

    /** Element-wise absolute values (for error scales). */
    public static float[] abs(float[] x) {
        float[] out = new float[x.length]; // same shape as x
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.abs(x[i]);
        }
        return out;
    }
}
