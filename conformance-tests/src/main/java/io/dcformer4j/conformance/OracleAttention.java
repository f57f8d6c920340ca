package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;

/**
 * The unfused DCMHA attention of spec §2.1, followed literally on the whole N×T×S tensor: scale, pre-compose
 * (§2.3, factorised, with the optional static weight turning the identity into Id + S), mask with −∞,
 * softmax, post-compose, ·V. Cached positions are just earlier keys: the queries are positions
 * {@code queryStart .. queryEnd−1} and the keys every position {@code 0 .. queryEnd−1}, so one function
 * defines prefill, chunked prefill and decode alike.
 *
 * <p>Layouts: q, k, v [P, N·D] (head h at columns h·D..h·D+D−1), dyn [P, 4, 2I+1, N], static weights
 * [N, N] indexed [source n, target m].
 */
public final class OracleAttention {
    private static final int PRE_QUERY = 0;
    private static final int PRE_KEY = 1;
    private static final int POST_QUERY = 2;
    private static final int POST_KEY = 3;

    private final AttentionSpec spec;
    private final float[] staticPre;
    private final float[] staticPost;
    private final int n;
    private final int d;
    private final int rank;

    /**
     * @param spec       the layer (its static-weight tensors are ignored; pass their values here)
     * @param staticPre  S of pre-compose [N, N], or null
     * @param staticPost S of post-compose [N, N], or null
     */
    public OracleAttention(AttentionSpec spec, float[] staticPre, float[] staticPost) {
        this.spec = spec;
        this.staticPre = staticPre;
        this.staticPost = staticPost;
        this.n = spec.numHeads();
        this.d = spec.headDim();
        this.rank = spec.rank();
    }

    /**
     * The first key a query at {@code t} sees (spec §1.6), written out here rather than taken from the SPI
     * helper so that the definition does not depend on the code under test: a global layer sees 0..t; a
     * local layer W keys t−W+1..t, or W+1 keys in calls with several queries when the R24 flag is set.
     */
    public int firstVisibleKey(int t, boolean multiTokenCall) {
        if (spec.window() == 0) {
            return 0;
        }
        int keys = spec.window() + (multiTokenCall && spec.windowPlusOneInPrefill() ? 1 : 0);
        return Math.max(0, t - keys + 1);
    }

    /**
     * Attention outputs [queryEnd − queryStart, N·D] for queries at positions queryStart..queryEnd−1.
     *
     * @param multiTokenCall whether the backend call that this models had more than one query (R24 flag)
     */
    public double[] attend(float[] q, float[] k, float[] v, float[] dyn, int queryStart, int queryEnd,
                           boolean multiTokenCall) {
        int rows = queryEnd - queryStart;
        int keys = queryEnd;
        double[][][] logits = new double[n][rows][keys]; // [N, T, S]
        double scale = 1.0 / Math.sqrt(d);
        for (int h = 0; h < n; h++) {
            for (int t = 0; t < rows; t++) {
                for (int s = 0; s < keys; s++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += (double) q[(queryStart + t) * n * d + h * d + j] * k[s * n * d + h * d + j];
                    }
                    logits[h][t][s] = dot * scale;
                }
            }
        }
        double[][][] composed = compose(logits, dyn, queryStart, PRE_QUERY, PRE_KEY, staticPre);
        for (int t = 0; t < rows; t++) {
            int position = queryStart + t;
            int first = firstVisibleKey(position, multiTokenCall);
            for (int s = 0; s < keys; s++) {
                if (s < first || s > position) {
                    for (int h = 0; h < n; h++) {
                        composed[h][t][s] = Double.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        for (int h = 0; h < n; h++) {
            for (int t = 0; t < rows; t++) {
                Oracle.softmaxInPlace(composed[h][t], keys);
            }
        }
        double[][][] probabilities = compose(composed, dyn, queryStart, POST_QUERY, POST_KEY, staticPost);
        double[] out = new double[rows * n * d]; // [T, N·D]
        for (int t = 0; t < rows; t++) {
            int position = queryStart + t;
            int first = firstVisibleKey(position, multiTokenCall);
            for (int m = 0; m < n; m++) {
                for (int j = 0; j < d; j++) {
                    double sum = 0;
                    // Masked keys are excluded, not multiplied by zero: a NaN in an invisible value must not leak in.
                    for (int s = first; s <= position; s++) {
                        sum += probabilities[m][t][s] * v[s * n * d + m * d + j];
                    }
                    out[(t * n + m) * d + j] = sum;
                }
            }
        }
        return out;
    }

    /**
     * Compose (spec §2.3) at every (t, s): the identity (plus S), the query-wise low-rank term and gate of
     * token t (slot cq), and, in DCMHA mode, the key-wise low-rank term and gate of token s (slot ck).
     */
    private double[][][] compose(double[][][] a, float[] dyn, int queryStart, int cq, int ck, float[] staticWeight) {
        int rows = a[0].length;
        int keys = a[0][0].length;
        double[][][] out = new double[n][rows][keys]; // [N, T, S]
        if (spec.mode() == AttentionMode.PLAIN_MHA) {
            for (int h = 0; h < n; h++) {
                for (int t = 0; t < rows; t++) {
                    out[h][t] = a[h][t].clone();
                }
            }
            return out;
        }
        boolean keyWise = spec.mode() == AttentionMode.DCMHA;
        double[] alpha = new double[n]; // [N] source heads at one (t, s)
        for (int t = 0; t < rows; t++) {
            int tokenT = queryStart + t;
            for (int s = 0; s < keys; s++) {
                for (int h = 0; h < n; h++) {
                    alpha[h] = a[h][t][s];
                }
                for (int m = 0; m < n; m++) {
                    double value = alpha[m];
                    if (staticWeight != null) {
                        for (int src = 0; src < n; src++) {
                            value += alpha[src] * staticWeight[src * n + m];
                        }
                    }
                    value += lowRank(alpha, dyn, tokenT, cq, m) + gate(dyn, tokenT, cq, m) * alpha[m];
                    if (keyWise) {
                        value += lowRank(alpha, dyn, s, ck, m) + gate(dyn, s, ck, m) * alpha[m];
                    }
                    out[m][t][s] = value;
                }
            }
        }
        return out;
    }

    /** Σ_i w2[c,i,m] · Σ_n w1[c,i,n] · α[n] of token {@code token}. */
    private double lowRank(double[] alpha, float[] dyn, int token, int slot, int m) {
        double sum = 0;
        for (int i = 0; i < rank; i++) {
            double h = 0;
            for (int src = 0; src < n; src++) {
                h += dyn[index(token, slot, i, src)] * alpha[src];
            }
            sum += dyn[index(token, slot, rank + i, m)] * h;
        }
        return sum;
    }

    private double gate(float[] dyn, int token, int slot, int m) {
        return dyn[index(token, slot, 2 * rank, m)];
    }

    private int index(int token, int slot, int row, int head) {
        return ((token * 4 + slot) * (2 * rank + 1) + row) * n + head;
    }
}
