package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * The fused DCMHA attention of spec §4.8: one query row at a time with all heads together. For the row's
 * visible keys S_t it fills an [N, |S_t|] scratch with scaled logits, pre-composes each key column in the
 * factorised form of spec §2.3, softmaxes each head, post-composes and multiplies by V. Keys before
 * {@code cache.length()} come from the cache ring, later keys from the fresh k/v/dyn tensors.
 */
final class AttentionKernel {
    /** Per-thread scratch, grown on demand and reused across calls. */
    static final class Scratch {
        float[] logits = new float[0];   // [N, S]
        float[] alpha = new float[0];    // [N]
        float[] query = new float[0];    // [2I+1, N] query-side factors of one slot
        float[] key = new float[0];      // [2I+1, N] key-side factors of one slot
        float[] acc = new float[0];      // [D]

        void ensure(int n, int s, int rows, int d) {
            if (logits.length < n * s) {
                logits = new float[Math.max(n * s, logits.length * 3 / 2)];
            }
            if (alpha.length < n) {
                alpha = new float[n];
            }
            if (query.length < rows * n) {
                query = new float[rows * n];
                key = new float[rows * n];
            }
            if (acc.length < d) {
                acc = new float[d];
            }
        }
    }

    /** Everything one call needs, fixed for the call. */
    record Call(CpuTensor q, CpuTensor k, CpuTensor v, CpuTensor dyn, CpuKvCache cache, AttentionSpec spec,
                CpuTensor out, int t, int start, float[] staticPre, float[] staticPost) {
    }

    private AttentionKernel() {
    }

    /** Query rows [r0, r1) of the call. */
    static void rows(Call call, int r0, int r1, Scratch sc) {
        AttentionSpec spec = call.spec;
        int n = spec.numHeads();
        int d = spec.headDim();
        int rank = spec.rank();
        int rows = spec.mode() == AttentionMode.PLAIN_MHA ? 0 : 2 * rank + 1;
        for (int i = r0; i < r1; i++) {
            int p = call.start + i;
            int first = spec.firstVisibleKey(p, call.t > 1);
            int s = p - first + 1;
            sc.ensure(n, s, Math.max(rows, 1), d);
            row(call, i, p, first, s, n, d, rank, sc);
        }
    }

    private static void row(Call c, int i, int p, int first, int s, int n, int d, int rank, Scratch sc) {
        float[] lg = sc.logits;
        int start = c.start;
        int cap = c.cache.spec().capacity();
        long rowBytes = 4L * n * d;
        MemorySegment qs = c.q.seg();
        long qo = c.q.offset + i * rowBytes;
        float scale = (float) (1.0 / Math.sqrt(d));
        MemorySegment fresh = c.k.seg();
        MemorySegment cached = c.cache.keys.segment;
        for (int j = 0; j < s; j++) {
            int key = first + j;
            MemorySegment ks;
            long ko;
            if (key >= start) {
                ks = fresh;
                ko = c.k.offset + (key - start) * rowBytes;
            } else {
                ks = cached;
                ko = (key % cap) * rowBytes;
            }
            for (int h = 0; h < n; h++) {
                lg[h * s + j] = dot(qs, qo + 4L * h * d, ks, ko + 4L * h * d, d) * scale;
            }
        }
        AttentionMode mode = c.spec.mode();
        if (mode != AttentionMode.PLAIN_MHA) {
            compose(c, i, first, s, n, rank, 0, c.staticPre, sc);
        }
        for (int h = 0; h < n; h++) {
            RowKernels.softmaxInPlace(lg, h * s, s);
        }
        if (mode != AttentionMode.PLAIN_MHA) {
            compose(c, i, first, s, n, rank, 2, c.staticPost, sc);
        }
        MemorySegment vf = c.v.seg();
        MemorySegment vc = c.cache.values.segment;
        MemorySegment os = c.out.seg();
        long oo = c.out.offset + i * rowBytes;
        float[] acc = sc.acc;
        for (int h = 0; h < n; h++) {
            java.util.Arrays.fill(acc, 0, d, 0f);
            for (int j = 0; j < s; j++) {
                float w = lg[h * s + j];
                int key = first + j;
                MemorySegment vs;
                long vo;
                if (key >= start) {
                    vs = vf;
                    vo = c.v.offset + (key - start) * rowBytes + 4L * h * d;
                } else {
                    vs = vc;
                    vo = (key % cap) * rowBytes + 4L * h * d;
                }
                axpy(w, vs, vo, acc, d);
            }
            MemorySegment.copy(acc, 0, os, CpuTensor.F32, oo + 4L * h * d, d);
        }
    }

    /**
     * Composes every key column of the scratch in place with query slot {@code cq} and key slot cq + 1:
     * out[m] = α[m](1 + dgq[m] + dgk[m]) + Σ_i hq_i w2q[i,m] + Σ_i hk_i w2k[i,m] (+ Σ_n α[n] S[n,m]).
     */
    private static void compose(Call c, int i, int first, int s, int n, int rank, int cq, float[] sw, Scratch sc) {
        float[] lg = sc.logits;
        float[] alpha = sc.alpha;
        float[] qf = sc.query;
        float[] kf = sc.key;
        int rows = 2 * rank + 1;
        int slotFloats = rows * n;
        long dynRow = 4L * 4 * slotFloats;
        MemorySegment ds = c.dyn.seg();
        MemorySegment.copy(ds, CpuTensor.F32, c.dyn.offset + i * dynRow + 4L * cq * slotFloats, qf, 0, slotFloats);
        boolean keySide = c.spec.mode() == AttentionMode.DCMHA;
        int cap = c.cache.spec().capacity();
        int part = cq / 2;
        for (int j = 0; j < s; j++) {
            for (int h = 0; h < n; h++) {
                alpha[h] = lg[h * s + j];
            }
            if (keySide) {
                int key = first + j;
                if (key >= c.start) {
                    MemorySegment.copy(ds, CpuTensor.F32,
                            c.dyn.offset + (key - c.start) * dynRow + 4L * (cq + 1) * slotFloats, kf, 0, slotFloats);
                } else {
                    MemorySegment.copy(c.cache.keySide.segment, CpuTensor.F32,
                            4L * ((long) (key % cap) * 2 * slotFloats + (long) part * slotFloats), kf, 0, slotFloats);
                }
            }
            for (int m = 0; m < n; m++) {
                float gate = 1f + qf[2 * rank * n + m] + (keySide ? kf[2 * rank * n + m] : 0f);
                lg[m * s + j] = alpha[m] * gate;
            }
            for (int r = 0; r < rank; r++) {
                float hq = 0f;
                float hk = 0f;
                for (int h = 0; h < n; h++) {
                    hq += qf[r * n + h] * alpha[h];
                    if (keySide) {
                        hk += kf[r * n + h] * alpha[h];
                    }
                }
                for (int m = 0; m < n; m++) {
                    float add = hq * qf[(rank + r) * n + m];
                    if (keySide) {
                        add += hk * kf[(rank + r) * n + m];
                    }
                    lg[m * s + j] += add;
                }
            }
            if (sw != null) {
                for (int m = 0; m < n; m++) {
                    float add = 0f;
                    for (int h = 0; h < n; h++) {
                        add += alpha[h] * sw[h * n + m];
                    }
                    lg[m * s + j] += add;
                }
            }
        }
    }

    static float dot(MemorySegment a, long ao, MemorySegment b, long bo, int d) {
        FloatVector acc = FloatVector.zero(Vec.FS);
        int i = 0;
        for (; i <= d - L; i += L) {
            acc = FloatVector.fromMemorySegment(Vec.FS, a, ao + 4L * i, Vec.LE).fma(FloatVector.fromMemorySegment(Vec.FS, b, bo + 4L * i, Vec.LE), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < d; i++) {
            sum += Vec.getF(a, ao + 4L * i) * Vec.getF(b, bo + 4L * i);
        }
        return sum;
    }

    private static void axpy(float w, MemorySegment v, long vo, float[] acc, int d) {
        int i = 0;
        for (; i <= d - L; i += L) {
            FloatVector.fromMemorySegment(Vec.FS, v, vo + 4L * i, Vec.LE).fma(FloatVector.broadcast(Vec.FS, w), FloatVector.fromArray(Vec.FS, acc, i)).intoArray(acc, i);
        }
        for (; i < d; i++) {
            acc[i] += w * Vec.getF(v, vo + 4L * i);
        }
    }

    /** Writes the call's fresh keys, values and key-side factors into the ring (the last capacity of them). */
    static void append(Call c) {
        AttentionSpec spec = c.spec;
        CpuKvCache cache = c.cache;
        int cap = cache.spec().capacity();
        int n = spec.numHeads();
        long rowBytes = 4L * n * spec.headDim();
        boolean keySide = cache.keySide != null && c.dyn != null;
        int slotFloats = keySide ? (2 * cache.spec().rank() + 1) * n : 0;
        for (int i = Math.max(0, c.t - cap); i < c.t; i++) {
            long slot = (c.start + i) % cap;
            MemorySegment.copy(c.k.seg(), c.k.offset + i * rowBytes, cache.keys.segment, slot * rowBytes, rowBytes);
            MemorySegment.copy(c.v.seg(), c.v.offset + i * rowBytes, cache.values.segment, slot * rowBytes, rowBytes);
            if (keySide) {
                long dynRow = 4L * 4 * slotFloats;
                long dst = slot * 2 * slotFloats * 4L;
                MemorySegment.copy(c.dyn.seg(), c.dyn.offset + i * dynRow + 4L * slotFloats,
                        cache.keySide.segment, dst, 4L * slotFloats);
                MemorySegment.copy(c.dyn.seg(), c.dyn.offset + i * dynRow + 4L * 3 * slotFloats,
                        cache.keySide.segment, dst + 4L * slotFloats, 4L * slotFloats);
            }
        }
        cache.advance(c.t);
    }
}
