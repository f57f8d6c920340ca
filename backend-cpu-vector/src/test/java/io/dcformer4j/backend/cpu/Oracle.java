package io.dcformer4j.backend.cpu;

/**
 * Plain double-precision definitions of every operation, written for readability: the test oracle.
 * Matrices are row-major double arrays.
 */
final class Oracle {
    private Oracle() {
    }

    /** erf by composite Simpson integration of 2/√π·e^(−u²) over [0, x] (independent of the backend's series). */
    static double erf(double x) {
        int steps = 20_000;
        double h = x / steps;
        double sum = 0;
        for (int i = 0; i <= steps; i++) {
            double u = i * h;
            double w = (i == 0 || i == steps) ? 1 : (i % 2 == 1 ? 4 : 2);
            sum += w * Math.exp(-u * u);
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }

    static double gelu(double z) {
        return z * 0.5 * (1 + erf(z / Math.sqrt(2)));
    }

    static double silu(double z) {
        return z / (1 + Math.exp(-z));
    }

    /** out[t][o] = Σ_i x[t][i]·w[o][i] + bias[o]. */
    static double[] linear(double[] x, double[] w, double[] bias, int t, int in, int out) {
        double[] y = new double[t * out];
        for (int r = 0; r < t; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias == null ? 0 : bias[o];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
        return y;
    }

    static double[] rmsNorm(double[] x, double[] gain, double eps) {
        int g = gain.length;
        double[] y = new double[x.length];
        for (int b = 0; b < x.length; b += g) {
            double ss = 0;
            for (int i = 0; i < g; i++) {
                ss += x[b + i] * x[b + i];
            }
            double inv = 1 / Math.sqrt(ss / g + eps);
            for (int i = 0; i < g; i++) {
                y[b + i] = gain[i] * x[b + i] * inv;
            }
        }
        return y;
    }

    static double[] layerNorm(double[] x, double[] gain, double[] bias, double eps) {
        int e = gain.length;
        double[] y = new double[x.length];
        for (int b = 0; b < x.length; b += e) {
            double mean = 0;
            for (int i = 0; i < e; i++) {
                mean += x[b + i];
            }
            mean /= e;
            double var = 0;
            for (int i = 0; i < e; i++) {
                var += (x[b + i] - mean) * (x[b + i] - mean);
            }
            var /= e;
            for (int i = 0; i < e; i++) {
                y[b + i] = gain[i] * (x[b + i] - mean) / Math.sqrt(var + eps) + bias[i];
            }
        }
        return y;
    }

    /** Half-layout RoPE with float32 angles (spec §1.4). */
    static double[] rope(double[] x, int rows, int cols, int startPos, int d, int dr, double base) {
        double[] y = x.clone();
        int half = dr / 2;
        for (int t = 0; t < rows; t++) {
            for (int h = 0; h < cols / d; h++) {
                for (int j = 0; j < half; j++) {
                    float inv = (float) (1.0 / Math.pow(base, (2.0 * j) / dr));
                    float theta = (float) (startPos + t) * inv;
                    double c = Math.cos(theta);
                    double s = Math.sin(theta);
                    int ia = t * cols + h * d + j;
                    int ib = ia + half;
                    y[ia] = x[ia] * c - x[ib] * s;
                    y[ib] = x[ib] * c + x[ia] * s;
                }
            }
        }
        return y;
    }

    static double[] softmaxRows(double[] x, int n) {
        double[] y = new double[x.length];
        for (int b = 0; b < x.length; b += n) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x[b + i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                y[b + i] = Math.exp(x[b + i] - max);
                sum += y[b + i];
            }
            for (int i = 0; i < n; i++) {
                y[b + i] /= sum;
            }
        }
        return y;
    }

    static double[] mgate(double[] u, double[] logits, int rows, int f, int groups) {
        double[] g = softmaxRows(logits, groups);
        double[] y = new double[u.length];
        int p = f / groups;
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < f; i++) {
                y[t * f + i] = g[t * groups + i / p] * u[t * f + i];
            }
        }
        return y;
    }

    /**
     * Dynamic weights of spec §2.2 into [T, 4, 2I+1, N]. dw1 [E, 4K], qkw [4, K, 2I, N], dd [E, 4N].
     */
    static double[] dynamicWeights(double[] a, double[] dw1, double[] qkw, double[] dd, int t, int e, int n, int rank, int k) {
        int rows = 2 * rank + 1;
        double[] out = new double[t * 4 * rows * n];
        for (int tok = 0; tok < t; tok++) {
            for (int c = 0; c < 4; c++) {
                double[] u = new double[k];
                for (int kk = 0; kk < k; kk++) {
                    double s = 0;
                    for (int i = 0; i < e; i++) {
                        s += a[tok * e + i] * dw1[i * 4 * k + c * k + kk];
                    }
                    u[kk] = gelu(s);
                }
                double[][] r = new double[2 * rank][n];
                for (int j = 0; j < 2 * rank; j++) {
                    for (int m = 0; m < n; m++) {
                        double s = 0;
                        for (int kk = 0; kk < k; kk++) {
                            s += u[kk] * qkw[((c * k + kk) * 2 * rank + j) * n + m];
                        }
                        r[j][m] = s;
                    }
                }
                int base = (tok * 4 + c) * rows * n;
                for (int i = 0; i < rank; i++) {
                    double ms = 0;
                    for (int m = 0; m < n; m++) {
                        ms += r[i][m] * r[i][m];
                    }
                    double inv = 1 / Math.sqrt(ms / n + 1e-6);
                    for (int m = 0; m < n; m++) {
                        out[base + i * n + m] = r[i][m] * inv;
                        out[base + (rank + i) * n + m] = r[rank + i][m];
                    }
                }
                for (int m = 0; m < n; m++) {
                    double s = 0;
                    for (int i = 0; i < e; i++) {
                        s += a[tok * e + i] * dd[i * 4 * n + c * n + m];
                    }
                    out[base + 2 * rank * n + m] = Math.tanh(s);
                }
            }
        }
        return out;
    }

    /** What the unfused reference attention needs, for a whole sequence of positions 0..P−1. */
    record Sequence(double[] q, double[] k, double[] v, double[] dyn, int positions) {
    }

    /**
     * Attention output of query positions [from, to) over the whole sequence, in the spec §2.1 order:
     * scale, pre-compose on the unmasked logits (matrix form α·(Id + S + Q_t + K_s)), mask, softmax,
     * post-compose, ·V.
     *
     * @param mode        0 DCMHA, 1 query-wise, 2 plain MHA
     * @param window      0 for global
     * @param plusOne     whether the window admits W + 1 keys (the R24 prefill quirk, already decided)
     */
    static double[] attention(Sequence seq, int from, int to, int n, int d, int rank, int mode, int window, boolean plusOne,
                              double[] sPre, double[] sPost) {
        int nd = n * d;
        int rows = 2 * rank + 1;
        int per = 4 * rows * n;
        double[] out = new double[(to - from) * nd];
        for (int t = from; t < to; t++) {
            int cnt = t + 1;
            double[][] lg = new double[n][cnt];
            for (int s = 0; s < cnt; s++) {
                for (int h = 0; h < n; h++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += seq.q[t * nd + h * d + i] * seq.k[s * nd + h * d + i];
                    }
                    lg[h][s] = dot / Math.sqrt(d);
                }
            }
            if (mode != 2) {
                lg = compose(lg, seq.dyn, per, rows, t, n, rank, 0, mode == 0, sPre);
            }
            int first = window == 0 ? 0 : Math.max(0, t - window - (plusOne ? 1 : 0) + 1);
            double[][] p = new double[n][cnt];
            for (int h = 0; h < n; h++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int s = first; s < cnt; s++) {
                    max = Math.max(max, lg[h][s]);
                }
                double sum = 0;
                for (int s = first; s < cnt; s++) {
                    p[h][s] = Math.exp(lg[h][s] - max);
                    sum += p[h][s];
                }
                for (int s = first; s < cnt; s++) {
                    p[h][s] /= sum;
                }
            }
            if (mode != 2) {
                p = compose(p, seq.dyn, per, rows, t, n, rank, 2, mode == 0, sPost);
            }
            for (int m = 0; m < n; m++) {
                for (int i = 0; i < d; i++) {
                    double s = 0;
                    for (int key = 0; key < cnt; key++) {
                        s += p[m][key] * seq.v[key * nd + m * d + i];
                    }
                    out[(t - from) * nd + m * d + i] = s;
                }
            }
        }
        return out;
    }

    /** Out[:, s] = α·(Id + S + Q_t + K_s) with Q, K built as full N×N matrices from the factors. */
    private static double[][] compose(double[][] a, double[] dyn, int per, int rows, int t, int n, int rank, int cq,
                                      boolean keyWise, double[] sw) {
        int cnt = a[0].length;
        double[][] qm = matrix(dyn, t * per + cq * rows * n, n, rank);
        double[][] out = new double[n][cnt];
        for (int s = 0; s < cnt; s++) {
            double[][] km = keyWise ? matrix(dyn, s * per + (cq + 1) * rows * n, n, rank) : new double[n][n];
            for (int m = 0; m < n; m++) {
                double v = 0;
                for (int src = 0; src < n; src++) {
                    double w = (src == m ? 1 : 0) + qm[src][m] + km[src][m] + (sw == null ? 0 : sw[src * n + m]);
                    v += a[src][s] * w;
                }
                out[m][s] = v;
            }
        }
        return out;
    }

    /** Σ_i w1[i,n]·w2[i,m] + δ_nm·dg[n] from one slot's factors at {@code base}. */
    private static double[][] matrix(double[] dyn, int base, int n, int rank) {
        double[][] m = new double[n][n];
        for (int src = 0; src < n; src++) {
            for (int dst = 0; dst < n; dst++) {
                double s = 0;
                for (int i = 0; i < rank; i++) {
                    s += dyn[base + i * n + src] * dyn[base + (rank + i) * n + dst];
                }
                m[src][dst] = s + (src == dst ? dyn[base + 2 * rank * n + src] : 0);
            }
        }
        return m;
    }
}
