package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;

import java.util.Random;

/** Feeds a random sequence through the fused attention in chunks and through the oracle. */
final class AttentionRunner {
    final int n;
    final int d;
    final int rank;
    final int positions;
    final float[] q;
    final float[] k;
    final float[] v;
    final float[] dyn;
    float[] staticPre;
    float[] staticPost;
    /** Whether the cache is grown to its whole capacity before the first call (else it grows with use). */
    boolean fullCacheUpFront;

    AttentionRunner(long seed, int n, int d, int rank, int positions) {
        this.n = n;
        this.d = d;
        this.rank = rank;
        this.positions = positions;
        Random rnd = new Random(seed);
        int nd = n * d;
        q = TestData.random(rnd, positions * nd, 2f);
        k = TestData.random(rnd, positions * nd, 2f);
        v = TestData.random(rnd, positions * nd, 1f);
        int rows = 2 * rank + 1;
        dyn = new float[positions * 4 * rows * n];
        for (int i = 0; i < dyn.length; i++) {
            int row = (i / n) % rows;
            float scale = row < rank ? 1f : row < 2 * rank ? 0.3f : 0.5f;
            dyn[i] = (rnd.nextFloat() * 2 - 1) * scale;
        }
    }

    AttentionRunner withStatic(long seed) {
        Random rnd = new Random(seed);
        staticPre = TestData.random(rnd, n * n, 0.2f);
        staticPost = TestData.random(rnd, n * n, 0.2f);
        return this;
    }

    /** Runs all positions in chunks of the given sizes (size 1 through attentionDecode), returning [P, N·D]. */
    float[] run(Backend b, AttentionMode mode, int window, boolean quirk, int capacity, int... chunks) {
        int nd = n * d;
        int rows = 2 * rank + 1;
        int per = 4 * rows * n;
        float[] out = new float[positions * nd];
        Tensor sPre = staticPre == null ? null : b.fromFloats(DType.F32, Shape.of(n, n), staticPre, "pre_proj.w");
        Tensor sPost = staticPost == null ? null : b.fromFloats(DType.F32, Shape.of(n, n), staticPost, "post_proj.w");
        AttentionSpec spec = new AttentionSpec(mode, n, d, rank, window, quirk, sPre, sPost);
        try (KvCache cache = b.allocateKvCache(new KvCacheSpec(capacity, n, d, rank, mode == AttentionMode.DCMHA))) {
            if (fullCacheUpFront) {
                ((CpuKvCache) cache).ensure(capacity);
            }
            int pos = 0;
            int c = 0;
            while (pos < positions) {
                int t = Math.min(chunks[c % chunks.length], positions - pos);
                c++;
                try (Tensor qt = b.fromFloats(DType.F32, Shape.of(t, nd), slice(q, pos, t, nd), "q");
                     Tensor kt = b.fromFloats(DType.F32, Shape.of(t, nd), slice(k, pos, t, nd), "k");
                     Tensor vt = b.fromFloats(DType.F32, Shape.of(t, nd), slice(v, pos, t, nd), "v");
                     Tensor dt = b.fromFloats(DType.F32, Shape.of(t, 4, rows, n), slice(dyn, pos, t, per), "dyn");
                     Tensor ot = b.allocate(DType.F32, Shape.of(t, nd), "attn_out")) {
                    Tensor dynArg = mode == AttentionMode.PLAIN_MHA ? null : dt;
                    if (t == 1) {
                        b.attentionDecode(qt, kt, vt, dynArg, cache, spec, ot);
                    } else {
                        b.attentionPrefill(qt, kt, vt, dynArg, cache, spec, ot);
                    }
                    System.arraycopy(ot.toFloatArray(), 0, out, pos * nd, t * nd);
                }
                pos += t;
                if (cache.length() != pos) {
                    throw new AssertionError("cache length " + cache.length() + " after " + pos + " positions");
                }
            }
        } finally {
            if (sPre != null) {
                sPre.close();
                sPost.close();
            }
        }
        return out;
    }

    /** The oracle over the same chunking (the R24 quirk depends on whether a call has more than one query). */
    double[] oracle(AttentionMode mode, int window, boolean quirk, int... chunks) {
        int nd = n * d;
        Oracle.Sequence seq = new Oracle.Sequence(TestData.toDouble(q), TestData.toDouble(k), TestData.toDouble(v),
                TestData.toDouble(dyn), positions);
        int m = mode == AttentionMode.DCMHA ? 0 : mode == AttentionMode.QUERY_WISE ? 1 : 2;
        double[] sPre = staticPre == null ? null : TestData.toDouble(staticPre);
        double[] sPost = staticPost == null ? null : TestData.toDouble(staticPost);
        double[] out = new double[positions * nd];
        int pos = 0;
        int c = 0;
        while (pos < positions) {
            int t = Math.min(chunks[c % chunks.length], positions - pos);
            c++;
            double[] part = Oracle.attention(seq, pos, pos + t, n, d, rank, m, window, quirk && t > 1, sPre, sPost);
            System.arraycopy(part, 0, out, pos * nd, t * nd);
            pos += t;
        }
        return out;
    }

    private static float[] slice(float[] a, int row, int rows, int width) {
        float[] s = new float[rows * width];
        System.arraycopy(a, row * width, s, 0, rows * width);
        return s;
    }
}
