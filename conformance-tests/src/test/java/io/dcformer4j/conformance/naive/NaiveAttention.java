package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.OpChecks;
import io.dcformer4j.api.Tensor;

/**
 * The fused attention of {@link NaiveBackend}, spec §4.8: one query row at a time, all heads together,
 * compose weights as N×N matrices per (t, s) (the fused-decode form of §4.4). Keys come from the cache for
 * positions before the call and from the fresh block after; the fresh keys are written to the ring only
 * after every query of the call has attended.
 */
final class NaiveAttention {
    private final NaiveBackend backend;
    private final AttentionSpec spec;
    private final int n;
    private final int d;
    private final int rank;
    private final int perSlot;
    private boolean keyWise;

    NaiveAttention(NaiveBackend backend, AttentionSpec spec) {
        this.backend = backend;
        this.spec = spec;
        this.n = spec.numHeads();
        this.d = spec.headDim();
        this.rank = spec.rank();
        this.perSlot = (2 * rank + 1) * n;
    }

    void run(String op, OpChecks.AttentionSizes sizes, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache kvCache, Tensor out) {
        NaiveTensor qt = backend.tensorArg(q, op);
        NaiveTensor kt = backend.tensorArg(k, op);
        NaiveTensor vt = backend.tensorArg(v, op);
        NaiveTensor ot = backend.tensorArg(out, op);
        NaiveKvCache cache = backend.cacheArg(kvCache, op);
        int rows = sizes.rows();
        int width = sizes.width();
        float[] dy = spec.mode().usesDynamicWeights() ? backend.tensorArg(dyn, op).toFloatArray() : null;
        var cs = cache.spec();
        int start = sizes.start();
        int capacity = sizes.capacity();
        // plain MHA composes with the identity alone: its static weights, if any, are ignored (OpChecks.attention)
        float[] staticPre = sizes.staticWeights() ? backend.staticWeights(backend.tensorArg(spec.staticPre(), op)) : null;
        float[] staticPost = sizes.staticWeights() ? backend.staticWeights(backend.tensorArg(spec.staticPost(), op)) : null;
        float[][] cached = backend.cachedKeysAndValues(cache, start);
        boolean decode = op.equals("attentionDecode");
        keyWise = backend.keyWiseTerms(spec, rows > 1, start);
        float[] qs = qt.toFloatArray();
        float[] ks = kt.toFloatArray();
        float[] vs = vt.toFloatArray();
        float[] result = new float[rows * width]; // [T, N·D]
        float scale = (float) (1.0 / Math.sqrt(d));
        boolean multi = rows > 1;
        float[] row = new float[width]; // [N·D] one query's output before it is placed
        for (int t = 0; t < rows; t++) {
            int position = start + t;
            int first = backend.firstKeyOfRow(spec, position, multi, t, cache);
            int keys = position - first + 1;
            if (decode && !backend.decodeAttends(start)) {
                continue; // the output row stays zero
            }
            float[] logits = backend.logitsBuffer(n * keys); // [N, S_t]
            java.util.Arrays.fill(logits, 0, n * keys, 0f);
            for (int j = 0; j < keys; j++) {
                int s = first + j;
                for (int h = 0; h < n; h++) {
                    float[] src = s < start ? cached[0] : ks;
                    int off = s < start ? Math.floorMod(s, capacity) * width : (s - start) * width;
                    float dot = 0f;
                    for (int x = 0; x < d; x++) {
                        dot += qs[t * width + h * d + x] * src[off + h * d + x];
                    }
                    logits[h * keys + j] = dot * scale;
                }
            }
            float[] alpha = new float[n]; // [N]
            float[] composed = new float[n]; // [N]
            for (int j = 0; j < keys; j++) {
                int s = first + j;
                column(logits, keys, j, alpha);
                NaiveBackend.applyCompose(alpha, matrix(dy, t, 0, cache, start, s, 0, staticPre), composed, n);
                setColumn(logits, keys, j, composed);
            }
            for (int h = 0; h < n; h++) {
                backend.attentionSoftmax(logits, h * keys, keys, decode);
            }
            for (int j = 0; j < keys; j++) {
                int s = first + j;
                column(logits, keys, j, alpha);
                backend.postCompose(alpha, matrix(dy, t, 2, cache, start, s, 1, staticPost), composed, n);
                setColumn(logits, keys, j, composed);
            }
            for (int m = 0; m < n; m++) {
                for (int x = 0; x < d; x++) {
                    float sum = 0f;
                    for (int j = 0; j < keys; j++) {
                        int s = first + j;
                        float[] src = s < start ? cached[1] : vs;
                        int off = s < start ? Math.floorMod(s, capacity) * width : (s - start) * width;
                        sum += logits[m * keys + j] * src[off + m * d + x];
                    }
                    row[backend.outputSlot(m * d + x, width)] = sum;
                }
            }
            for (int i = 0; i < width; i++) {
                result[t * width + i] = row[backend.outputSlot(i, width)];
            }
        }
        for (int t = 0; t < rows; t++) {
            int slot = (start + t) % capacity;
            System.arraycopy(ks, t * width, cache.keys, slot * width, width);
            System.arraycopy(vs, t * width, cache.values, slot * width, width);
            if (cs.keySide() && dy != null) {
                System.arraycopy(dy, (t * 4 + 1) * perSlot, cache.keySide, slot * 2 * perSlot, perSlot);
                System.arraycopy(dy, (t * 4 + 3) * perSlot, cache.keySide, slot * 2 * perSlot + perSlot, perSlot);
            }
        }
        cache.length = start + rows;
        cache.highWater = Math.max(cache.highWater, cache.length);
        NaiveBackend.writeOut(ot, result);
    }

    private void column(float[] a, int keys, int j, float[] alpha) {
        for (int h = 0; h < n; h++) {
            alpha[h] = a[h * keys + j];
        }
    }

    private void setColumn(float[] a, int keys, int j, float[] values) {
        for (int h = 0; h < n; h++) {
            a[h * keys + j] = values[h];
        }
    }

    /**
     * The compose matrix Id (+ S) + Q_t (+ K_s) [N, N] for query row t (query slot cq of the fresh dyn) and
     * key s (key-side part {@code keyPart}: 0 = slot 1, 1 = slot 3; from the cache or the fresh dyn).
     */
    private float[] matrix(float[] dy, int t, int cq, NaiveKvCache cache, int start, int s, int keyPart, float[] staticWeight) {
        float[] mat = new float[n * n]; // [N source, N target]
        for (int h = 0; h < n; h++) {
            mat[h * n + h] = 1f;
        }
        if (staticWeight != null) {
            for (int i = 0; i < n * n; i++) {
                mat[i] += staticWeight[i];
            }
        }
        if (spec.mode() == AttentionMode.PLAIN_MHA) {
            return mat;
        }
        addFactors(mat, dy, (t * 4 + cq) * perSlot);
        if (keyWise) {
            if (s < start) {
                int capacity = cache.spec().capacity();
                addFactors(mat, cache.keySide, Math.floorMod(s, capacity) * 2 * perSlot + keyPart * perSlot);
            } else {
                addFactors(mat, dy, ((s - start) * 4 + 1 + 2 * keyPart) * perSlot);
            }
        }
        return mat;
    }

    /** Adds Σ_i w1[i, n]·w2[i, m] + δ_nm·dg[n] from one slot's factors at {@code base}. */
    private void addFactors(float[] mat, float[] src, int base) {
        for (int src1 = 0; src1 < n; src1++) {
            for (int m = 0; m < n; m++) {
                float sum = 0f;
                for (int i = 0; i < rank; i++) {
                    sum += src[base + i * n + src1] * src[base + (rank + i) * n + m];
                }
                mat[src1 * n + m] += sum;
            }
            mat[src1 * n + src1] += src[base + 2 * rank * n + src1];
        }
    }
}
