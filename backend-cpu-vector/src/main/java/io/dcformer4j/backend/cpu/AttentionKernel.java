package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * The fused DCMHA attention of spec §4.8, a block of {@value #R} consecutive query rows at a time with all
 * heads together. For the block's key range (the union of the rows' visible keys) it fills an
 * [R, N, |S|] scratch with scaled logits (keys stored transposed, so a vector holds consecutive keys and
 * the R rows share every key load), pre-composes every key column in the factorised form of spec §2.3
 * (vectorised over keys), softmaxes each row's visible keys per head, post-composes, zeroes the keys a
 * row cannot see, and multiplies by V.
 *
 * <p>The key range is split into at most three contiguous pieces: up to two runs of ring slots (positions
 * before the call) and the call's fresh block. A decode call appends its token to the cache first and
 * reads everything from there (a ring of at least W slots never overwrites a visible key); a prefill call
 * reads fresh keys from transposed copies and appends after all rows are done.
 */
final class AttentionKernel {
    /** Query rows per block. */
    static final int R = 4;

    /** Per-thread scratch, grown on demand and reused across calls. */
    static final class Scratch {
        float[] logits = new float[0];   // [R, N, Sp]
        float[] q = new float[0];        // [R, N·D]
        float[] out = new float[0];      // [R, N·D]
        float[] query = new float[0];    // [R, 2I+1, N] query-side factors of one slot
        float[] alpha = new float[0];    // [N, L]
        float[] low = new float[0];      // [2I, L]
        final int[] fresh = new int[3];
        final int[] col = new int[3];
        final int[] first = new int[3];
        final int[] count = new int[3];
        /** A worker's share of the pieces in a split decode (the caller's own pieces stay intact). */
        final int[] subFresh = new int[3];
        final int[] subCol = new int[3];
        final int[] subFirst = new int[3];
        final int[] subCount = new int[3];
        float[] partial = new float[0];  // [chunks, N·D] of a split decode

        void ensure(int n, int d, int sp, int rank) {
            if (logits.length < R * n * sp + L) {
                logits = new float[Math.max(R * n * sp + L, logits.length * 3 / 2)];
            }
            if (q.length < R * n * d) {
                q = new float[R * n * d];
                out = new float[R * n * d];
            }
            if (query.length < R * (2 * rank + 1) * n) {
                query = new float[R * (2 * rank + 1) * n];
            }
            if (alpha.length < n * L) {
                alpha = new float[n * L];
            }
            if (low.length < 2 * rank * L) {
                low = new float[2 * rank * L];
            }
        }
    }

    /**
     * Everything one call needs. {@code freshKeys} [N·D][T], {@code freshValues} [T][N·D] and
     * {@code freshKeySide} [2·(2I+1)·N][T] are null for a decode call, which reads only the cache.
     */
    record Call(CpuTensor q, CpuTensor dyn, CpuKvCache cache, AttentionSpec spec, CpuTensor out, int t, int start,
                float[] staticPre, float[] staticPost, float[] freshKeys, float[] freshValues, float[] freshKeySide) {
        boolean prefill() {
            return freshKeys != null;
        }
    }

    private AttentionKernel() {
    }

    /** Number of row blocks of a call. */
    static int blocks(int t) {
        return (t + R - 1) / R;
    }

    /**
     * Row blocks [b0, b1) in a zig-zag order (0, n−1, 1, n−2, …) so that contiguous ranges of blocks carry
     * similar causal work.
     */
    static void blocks(Call c, int b0, int b1, Scratch sc) {
        int nb = blocks(c.t);
        for (int i = b0; i < b1; i++) {
            int b = (i % 2 == 0) ? i / 2 : nb - 1 - i / 2;
            block(c, b * R, Math.min(R, c.t - b * R), sc);
        }
    }

    private static void block(Call c, int t0, int rb, Scratch sc) {
        AttentionSpec spec = c.spec;
        int n = spec.numHeads();
        int d = spec.headDim();
        int nd = n * d;
        int rank = spec.rank();
        boolean prefillRule = c.t > 1;
        int p0 = c.start + t0;
        int lo = spec.firstVisibleKey(p0, prefillRule);
        int hi = p0 + rb - 1;
        int s = hi - lo + 1;
        int sp = (s + L - 1) / L * L;
        sc.ensure(n, d, sp, Math.max(rank, 1));
        int pieces = pieces(c, lo, hi, sc);
        for (int r = 0; r < R; r++) {
            int row = t0 + Math.min(r, rb - 1);
            MemorySegment.copy(c.q.seg(), CpuTensor.F32, c.q.offset + 4L * row * nd, sc.q, r * nd, nd);
        }
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int pc = 0; pc < pieces; pc++) {
            boolean fresh = sc.fresh[pc] != 0;
            float[] kt = fresh ? c.freshKeys : c.cache.keys;
            int stride = fresh ? c.t : c.cache.stride;
            if (rb == 1) {
                logits1(sc.q, kt, stride, sc.col[pc], sc.first[pc], sc.count[pc], n, d, sp, scale, sc.logits);
            } else {
                logits(sc.q, kt, stride, sc.col[pc], sc.first[pc], sc.count[pc], n, d, sp, scale, sc.logits);
            }
        }
        boolean compose = spec.mode() != AttentionMode.PLAIN_MHA;
        if (compose) {
            composeBlock(c, sc.logits, sc, sc.fresh, sc.col, sc.first, sc.count, t0, rb, 0, c.staticPre, pieces, n, sp, rank);
        }
        for (int r = 0; r < rb; r++) {
            int p = p0 + r;
            int vlo = spec.firstVisibleKey(p, prefillRule) - lo;
            int vhi = p - lo;
            for (int h = 0; h < n; h++) {
                RowKernels.softmaxInPlace(sc.logits, r * n * sp + h * sp + vlo, vhi - vlo + 1);
            }
        }
        if (compose) {
            composeBlock(c, sc.logits, sc, sc.fresh, sc.col, sc.first, sc.count, t0, rb, 2, c.staticPost, pieces, n, sp, rank);
        }
        for (int r = 0; r < rb; r++) {
            int p = p0 + r;
            int vlo = spec.firstVisibleKey(p, prefillRule) - lo;
            int vhi = p - lo;
            for (int h = 0; h < n; h++) {
                int hb = r * n * sp + h * sp;
                java.util.Arrays.fill(sc.logits, hb, hb + vlo, 0f);
                java.util.Arrays.fill(sc.logits, hb + vhi + 1, hb + sp, 0f);
            }
        }
        if (rb > 1) {
            for (int r = rb; r < R; r++) {
                java.util.Arrays.fill(sc.logits, r * n * sp, (r + 1) * n * sp, 0f);
            }
        }
        java.util.Arrays.fill(sc.out, 0, R * nd, 0f);
        for (int pc = 0; pc < pieces; pc++) {
            boolean fresh = sc.fresh[pc] != 0;
            float[] v = fresh ? c.freshValues : c.cache.values;
            if (rb == 1) {
                values1(sc.logits, v, sc.col[pc], sc.first[pc], sc.count[pc], n, d, sp, sc.out);
            } else {
                values(sc.logits, v, sc.col[pc], sc.first[pc], sc.count[pc], n, d, sp, sc.out);
            }
        }
        MemorySegment os = c.out.seg();
        for (int r = 0; r < rb; r++) {
            MemorySegment.copy(sc.out, r * nd, os, CpuTensor.F32, c.out.offset + 4L * (t0 + r) * nd, nd);
        }
    }

    /** Keys per worker below which a decode step stays on the calling thread. */
    static final int DECODE_SPLIT_KEYS = 256;

    /**
     * One decode row with its keys split across the pool: each worker computes logits and pre-compose for a
     * range of keys into the caller's scratch, the caller softmaxes each head over all keys, then each worker
     * post-composes its range and accumulates its part of P'·V, and the caller adds the parts.
     */
    static void decodeSplit(Call c, WorkerPool pool, ThreadLocal<Scratch> scratch) {
        decodeSplit(c, pool.threads(), pool::parallelFor, scratch);
    }

    /** How the pieces of a split decode are run: over the pool, or in order on the calling thread. */
    @FunctionalInterface
    interface Loop {
        void run(int n, int grain, WorkerPool.RangeBody body);
    }

    /**
     * {@link #decodeSplit(Call, WorkerPool, ThreadLocal)} with the keys split for {@code threads} workers and the
     * pieces run by {@code loop}; the floats depend on {@code threads} only, not on which thread runs a piece.
     */
    static void decodeSplit(Call c, int threads, Loop loop, ThreadLocal<Scratch> scratch) {
        AttentionSpec spec = c.spec;
        int n = spec.numHeads();
        int d = spec.headDim();
        int nd = n * d;
        int rank = spec.rank();
        int p = c.start;
        int lo = spec.firstVisibleKey(p, false);
        int s = p - lo + 1;
        int sp = (s + L - 1) / L * L;
        Scratch sc = scratch.get();
        sc.ensure(n, d, sp, Math.max(rank, 1));
        int pieces = pieces(c, lo, p, sc);
        MemorySegment.copy(c.q.seg(), CpuTensor.F32, c.q.offset, sc.q, 0, nd);
        float[] lg = sc.logits;
        float[] q = sc.q;
        int units = sp / L;
        int chunks = Math.min(threads, Math.max(1, s / DECODE_SPLIT_KEYS));
        int grain = (units + chunks - 1) / chunks;
        if (sc.partial.length < chunks * nd) {
            sc.partial = new float[chunks * nd];
        }
        float[] partial = sc.partial;
        float scale = (float) (1.0 / Math.sqrt(d));
        boolean compose = spec.mode() != AttentionMode.PLAIN_MHA;
        loop.run(units, grain, (u0, u1) -> {
            Scratch ws = scratch.get();
            ws.ensure(n, d, L, Math.max(rank, 1));
            int sub = subPieces(sc, pieces, u0 * L, Math.min(s, u1 * L), ws);
            for (int pc = 0; pc < sub; pc++) {
                boolean fresh = ws.subFresh[pc] != 0;
                logits1(q, fresh ? c.freshKeys : c.cache.keys, fresh ? c.t : c.cache.stride, ws.subCol[pc],
                        ws.subFirst[pc], ws.subCount[pc], n, d, sp, scale, lg);
            }
            if (compose) {
                composeBlock(c, lg, ws, ws.subFresh, ws.subCol, ws.subFirst, ws.subCount, 0, 1, 0, c.staticPre, sub, n, sp, rank);
            }
        });
        for (int h = 0; h < n; h++) {
            RowKernels.softmaxInPlace(lg, h * sp, s);
        }
        loop.run(units, grain, (u0, u1) -> {
            Scratch ws = scratch.get();
            ws.ensure(n, d, L, Math.max(rank, 1));
            int sub = subPieces(sc, pieces, u0 * L, Math.min(s, u1 * L), ws);
            if (compose) {
                composeBlock(c, lg, ws, ws.subFresh, ws.subCol, ws.subFirst, ws.subCount, 0, 1, 2, c.staticPost, sub, n, sp, rank);
            }
            int part = u0 / grain;
            java.util.Arrays.fill(partial, part * nd, (part + 1) * nd, 0f);
            java.util.Arrays.fill(ws.out, 0, nd, 0f);
            for (int pc = 0; pc < sub; pc++) {
                boolean fresh = ws.subFresh[pc] != 0;
                values1(lg, fresh ? c.freshValues : c.cache.values, ws.subCol[pc], ws.subFirst[pc], ws.subCount[pc], n, d, sp, ws.out);
            }
            System.arraycopy(ws.out, 0, partial, part * nd, nd);
        });
        float[] out = sc.out;
        java.util.Arrays.fill(out, 0, nd, 0f);
        for (int part = 0; part < chunks; part++) {
            for (int x = 0; x < nd; x++) {
                out[x] += partial[part * nd + x];
            }
        }
        MemorySegment.copy(out, 0, c.out.seg(), CpuTensor.F32, c.out.offset, nd);
    }

    /** The parts of the caller's pieces that fall in key indices [a, b), into ws's sub-pieces; returns how many. */
    private static int subPieces(Scratch sc, int pieces, int a, int b, Scratch ws) {
        int np = 0;
        for (int pc = 0; pc < pieces; pc++) {
            int from = Math.max(a, sc.first[pc]);
            int to = Math.min(b, sc.first[pc] + sc.count[pc]);
            if (from < to) {
                ws.subFresh[np] = sc.fresh[pc];
                ws.subCol[np] = sc.col[pc] + from - sc.first[pc];
                ws.subFirst[np] = from;
                ws.subCount[np] = to - from;
                np++;
            }
        }
        return np;
    }

    /** Splits key positions [lo, hi] into runs of ring slots and the fresh block; returns how many. */
    private static int pieces(Call c, int lo, int hi, Scratch sc) {
        int cap = c.cache.spec().capacity();
        int freshStart = c.prefill() ? c.start : Integer.MAX_VALUE;
        int np = 0;
        int cachedEnd = (int) Math.min((long) hi + 1, freshStart);
        if (lo < cachedEnd) {
            int slot = lo % cap;
            int total = cachedEnd - lo;
            int run = Math.min(total, cap - slot);
            np = piece(sc, np, 0, slot, 0, run);
            if (run < total) {
                np = piece(sc, np, 0, 0, run, total - run);
            }
        }
        if (hi >= freshStart) {
            int from = Math.max(lo, freshStart);
            np = piece(sc, np, 1, from - c.start, from - lo, hi - from + 1);
        }
        return np;
    }

    private static int piece(Scratch sc, int i, int fresh, int col, int first, int count) {
        sc.fresh[i] = fresh;
        sc.col[i] = col;
        sc.first[i] = first;
        sc.count[i] = count;
        return i + 1;
    }

    /**
     * Scaled logits of the R rows for one piece of keys: lg[r, h, first + j] = q[r, h]·k[j, h] · scale, with
     * keys transposed [N·D][stride] starting at column {@code col}. Two key vectors × R rows per step.
     */
    private static void logits(float[] q, float[] kt, int stride, int col, int first, int count, int n, int d, int sp,
                               float scale, float[] lg) {
        int nd = n * d;
        for (int h = 0; h < n; h++) {
            int j = 0;
            for (; j + 2 * L <= count; j += 2 * L) {
                FloatVector a00 = FloatVector.zero(FS);
                FloatVector a01 = a00;
                FloatVector a10 = a00;
                FloatVector a11 = a00;
                FloatVector a20 = a00;
                FloatVector a21 = a00;
                FloatVector a30 = a00;
                FloatVector a31 = a00;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector k0 = FloatVector.fromArray(FS, kt, kb);
                    FloatVector k1 = FloatVector.fromArray(FS, kt, kb + L);
                    FloatVector x0 = FloatVector.broadcast(FS, q[qb + e]);
                    FloatVector x1 = FloatVector.broadcast(FS, q[nd + qb + e]);
                    FloatVector x2 = FloatVector.broadcast(FS, q[2 * nd + qb + e]);
                    FloatVector x3 = FloatVector.broadcast(FS, q[3 * nd + qb + e]);
                    a00 = x0.fma(k0, a00);
                    a01 = x0.fma(k1, a01);
                    a10 = x1.fma(k0, a10);
                    a11 = x1.fma(k1, a11);
                    a20 = x2.fma(k0, a20);
                    a21 = x2.fma(k1, a21);
                    a30 = x3.fma(k0, a30);
                    a31 = x3.fma(k1, a31);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a00.mul(scale).intoArray(lg, o);
                a01.mul(scale).intoArray(lg, o + L);
                a10.mul(scale).intoArray(lg, o + n * sp);
                a11.mul(scale).intoArray(lg, o + n * sp + L);
                a20.mul(scale).intoArray(lg, o + 2 * n * sp);
                a21.mul(scale).intoArray(lg, o + 2 * n * sp + L);
                a30.mul(scale).intoArray(lg, o + 3 * n * sp);
                a31.mul(scale).intoArray(lg, o + 3 * n * sp + L);
            }
            for (; j < count; j += L) {
                VectorMask<Float> m = FS.indexInRange(j, count);
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector k0 = FloatVector.fromArray(FS, kt, kb, m);
                    a0 = FloatVector.broadcast(FS, q[qb + e]).fma(k0, a0);
                    a1 = FloatVector.broadcast(FS, q[nd + qb + e]).fma(k0, a1);
                    a2 = FloatVector.broadcast(FS, q[2 * nd + qb + e]).fma(k0, a2);
                    a3 = FloatVector.broadcast(FS, q[3 * nd + qb + e]).fma(k0, a3);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a0.mul(scale).intoArray(lg, o, m);
                a1.mul(scale).intoArray(lg, o + n * sp, m);
                a2.mul(scale).intoArray(lg, o + 2 * n * sp, m);
                a3.mul(scale).intoArray(lg, o + 3 * n * sp, m);
            }
        }
    }

    /**
     * Composes every key column of the block's rows in place with query slot {@code cq} of each row and, for
     * DCMHA, key slot cq + 1 of each key:
     * out[m] = α[m](1 + dgq[m] + dgk[m]) + Σ_i hq_i w2q[i,m] + Σ_i hk_i w2k[i,m] (+ Σ_n α[n] S[n,m]),
     * hq_i = Σ_n w1q[i,n] α[n], hk_i = Σ_n w1k[i,n] α[n], L keys at a time. The rows of the block are
     * composed one after another for each key vector, so a key's factors are read from memory once per
     * block and from L1 for the other rows.
     */
    private static void composeBlock(Call c, float[] lg, Scratch sc, int[] pFresh, int[] pCol, int[] pFirst, int[] pCount,
                                     int t0, int rb, int cq, float[] sw, int pieces, int n, int sp, int rank) {
        int rows = 2 * rank + 1;
        int slotFloats = rows * n;
        float[] qfs = sc.query;
        for (int r = 0; r < rb; r++) {
            MemorySegment.copy(c.dyn.seg(), CpuTensor.F32, c.dyn.offset + 4L * ((long) (t0 + r) * 4 + cq) * slotFloats,
                    qfs, r * slotFloats, slotFloats);
        }
        boolean keySide = c.spec.mode() == AttentionMode.DCMHA;
        int part = cq / 2;
        float[] alpha = sc.alpha;
        float[] low = sc.low;
        for (int pc = 0; pc < pieces; pc++) {
            boolean fresh = pFresh[pc] != 0;
            float[] ks = fresh ? c.freshKeySide : c.cache.keySide;
            int stride = fresh ? c.t : c.cache.stride;
            int col = pCol[pc];
            int count = pCount[pc];
            int ksBase = part * slotFloats * stride + col;
            for (int j = 0; j < count; j += L) {
                // loads may run past the piece into padding or the next row (lanes discarded); stores may not
                boolean tail = j + L > count;
                VectorMask<Float> m = FS.indexInRange(j, count);
                for (int r = 0; r < rb; r++) {
                    int at = r * n * sp + pFirst[pc] + j;
                    int qo = r * slotFloats;
                    for (int h = 0; h < n; h++) {
                        FloatVector.fromArray(FS, lg, at + h * sp).intoArray(alpha, h * L);
                    }
                    for (int i = 0; i < rank; i++) {
                        FloatVector hq = FloatVector.zero(FS);
                        for (int h = 0; h < n; h++) {
                            hq = FloatVector.broadcast(FS, qfs[qo + i * n + h]).fma(FloatVector.fromArray(FS, alpha, h * L), hq);
                        }
                        hq.intoArray(low, i * L);
                        if (keySide) {
                            FloatVector hk = FloatVector.zero(FS);
                            int kb = ksBase + i * n * stride + j;
                            for (int h = 0; h < n; h++) {
                                hk = FloatVector.fromArray(FS, ks, kb + h * stride).fma(FloatVector.fromArray(FS, alpha, h * L), hk);
                            }
                            hk.intoArray(low, (rank + i) * L);
                        }
                    }
                    for (int o = 0; o < n; o++) {
                        FloatVector a = FloatVector.fromArray(FS, alpha, o * L);
                        FloatVector y = a.mul(1f + qfs[qo + 2 * rank * n + o]);
                        if (keySide) {
                            y = a.fma(FloatVector.fromArray(FS, ks, ksBase + (2 * rank * n + o) * stride + j), y);
                        }
                        for (int i = 0; i < rank; i++) {
                            y = FloatVector.fromArray(FS, low, i * L).fma(FloatVector.broadcast(FS, qfs[qo + (rank + i) * n + o]), y);
                            if (keySide) {
                                y = FloatVector.fromArray(FS, low, (rank + i) * L)
                                        .fma(FloatVector.fromArray(FS, ks, ksBase + ((rank + i) * n + o) * stride + j), y);
                            }
                        }
                        if (sw != null) {
                            for (int h = 0; h < n; h++) {
                                y = FloatVector.fromArray(FS, alpha, h * L).fma(FloatVector.broadcast(FS, sw[h * n + o]), y);
                            }
                        }
                        if (tail) {
                            y.intoArray(lg, at + o * sp, m);
                        } else {
                            y.intoArray(lg, at + o * sp);
                        }
                    }
                }
            }
        }
    }

    /** {@link #logits} for a single query row (decode). */
    private static void logits1(float[] q, float[] kt, int stride, int col, int first, int count, int n, int d, int sp,
                                float scale, float[] lg) {
        for (int h = 0; h < n; h++) {
            int j = 0;
            for (; j + 4 * L <= count; j += 4 * L) {
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    FloatVector x = FloatVector.broadcast(FS, q[qb + e]);
                    a0 = x.fma(FloatVector.fromArray(FS, kt, kb), a0);
                    a1 = x.fma(FloatVector.fromArray(FS, kt, kb + L), a1);
                    a2 = x.fma(FloatVector.fromArray(FS, kt, kb + 2 * L), a2);
                    a3 = x.fma(FloatVector.fromArray(FS, kt, kb + 3 * L), a3);
                    kb += stride;
                }
                int o = h * sp + first + j;
                a0.mul(scale).intoArray(lg, o);
                a1.mul(scale).intoArray(lg, o + L);
                a2.mul(scale).intoArray(lg, o + 2 * L);
                a3.mul(scale).intoArray(lg, o + 3 * L);
            }
            for (; j < count; j += L) {
                VectorMask<Float> m = FS.indexInRange(j, count);
                FloatVector a0 = FloatVector.zero(FS);
                int kb = h * d * stride + col + j;
                int qb = h * d;
                for (int e = 0; e < d; e++) {
                    a0 = FloatVector.broadcast(FS, q[qb + e]).fma(FloatVector.fromArray(FS, kt, kb, m), a0);
                    kb += stride;
                }
                a0.mul(scale).intoArray(lg, h * sp + first + j, m);
            }
        }
    }

    /** {@link #values} for a single query row (decode): four keys in flight per step. */
    private static void values1(float[] lg, float[] v, int col, int first, int count, int n, int d, int sp, float[] out) {
        int nd = n * d;
        for (int m = 0; m < n; m++) {
            for (int e = 0; e < d; e += L) {
                VectorMask<Float> mask = FS.indexInRange(e, d);
                int ob = m * d + e;
                FloatVector a0 = FloatVector.fromArray(FS, out, ob, mask);
                FloatVector a1 = FloatVector.zero(FS);
                FloatVector a2 = a1;
                FloatVector a3 = a1;
                int pb = m * sp + first;
                int vb = col * nd + ob;
                int j = 0;
                for (; j + 4 <= count; j += 4) {
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(FloatVector.fromArray(FS, v, vb, mask), a0);
                    a1 = FloatVector.broadcast(FS, lg[pb + j + 1]).fma(FloatVector.fromArray(FS, v, vb + nd, mask), a1);
                    a2 = FloatVector.broadcast(FS, lg[pb + j + 2]).fma(FloatVector.fromArray(FS, v, vb + 2 * nd, mask), a2);
                    a3 = FloatVector.broadcast(FS, lg[pb + j + 3]).fma(FloatVector.fromArray(FS, v, vb + 3 * nd, mask), a3);
                    vb += 4 * nd;
                }
                for (; j < count; j++) {
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(FloatVector.fromArray(FS, v, vb, mask), a0);
                    vb += nd;
                }
                a0.add(a1).add(a2.add(a3)).intoArray(out, ob, mask);
            }
        }
    }

    /**
     * out[r, m, :] += Σ_j P[r, m, first + j] · v[col + j, m, :] for one piece (v row-major [slots][N·D]);
     * the R rows share every value load.
     */
    private static void values(float[] lg, float[] v, int col, int first, int count, int n, int d, int sp, float[] out) {
        int nd = n * d;
        for (int m = 0; m < n; m++) {
            int e = 0;
            for (; e + L <= d; e += L) {
                int ob = m * d + e;
                FloatVector a0 = FloatVector.fromArray(FS, out, ob);
                FloatVector a1 = FloatVector.fromArray(FS, out, nd + ob);
                FloatVector a2 = FloatVector.fromArray(FS, out, 2 * nd + ob);
                FloatVector a3 = FloatVector.fromArray(FS, out, 3 * nd + ob);
                int pb = m * sp + first;
                int vb = col * nd + ob;
                for (int j = 0; j < count; j++) {
                    FloatVector vv = FloatVector.fromArray(FS, v, vb);
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(vv, a0);
                    a1 = FloatVector.broadcast(FS, lg[n * sp + pb + j]).fma(vv, a1);
                    a2 = FloatVector.broadcast(FS, lg[2 * n * sp + pb + j]).fma(vv, a2);
                    a3 = FloatVector.broadcast(FS, lg[3 * n * sp + pb + j]).fma(vv, a3);
                    vb += nd;
                }
                a0.intoArray(out, ob);
                a1.intoArray(out, nd + ob);
                a2.intoArray(out, 2 * nd + ob);
                a3.intoArray(out, 3 * nd + ob);
            }
            for (; e < d; e += L) {
                VectorMask<Float> mask = FS.indexInRange(e, d);
                int ob = m * d + e;
                FloatVector a0 = FloatVector.fromArray(FS, out, ob, mask);
                FloatVector a1 = FloatVector.fromArray(FS, out, nd + ob, mask);
                FloatVector a2 = FloatVector.fromArray(FS, out, 2 * nd + ob, mask);
                FloatVector a3 = FloatVector.fromArray(FS, out, 3 * nd + ob, mask);
                int pb = m * sp + first;
                int vb = col * nd + ob;
                for (int j = 0; j < count; j++) {
                    FloatVector vv = FloatVector.fromArray(FS, v, vb, mask);
                    a0 = FloatVector.broadcast(FS, lg[pb + j]).fma(vv, a0);
                    a1 = FloatVector.broadcast(FS, lg[n * sp + pb + j]).fma(vv, a1);
                    a2 = FloatVector.broadcast(FS, lg[2 * n * sp + pb + j]).fma(vv, a2);
                    a3 = FloatVector.broadcast(FS, lg[3 * n * sp + pb + j]).fma(vv, a3);
                    vb += nd;
                }
                a0.intoArray(out, ob, mask);
                a1.intoArray(out, nd + ob, mask);
                a2.intoArray(out, 2 * nd + ob, mask);
                a3.intoArray(out, 3 * nd + ob, mask);
            }
        }
    }

    /** Transposed copies of a prefill call's fresh keys, values and key-side factors. */
    static float[][] fresh(CpuTensor k, CpuTensor v, CpuTensor dyn, int t, int n, int d, int rank, boolean keySide) {
        int nd = n * d;
        float[] rows = new float[t * nd];                    // [T, N·D]
        MemorySegment.copy(k.seg(), CpuTensor.F32, k.offset, rows, 0, rows.length);
        float[] kt = new float[nd * t];                      // [N·D, T]
        for (int i = 0; i < t; i++) {
            for (int x = 0; x < nd; x++) {
                kt[x * t + i] = rows[i * nd + x];
            }
        }
        float[] vals = new float[t * nd];                    // [T, N·D]
        MemorySegment.copy(v.seg(), CpuTensor.F32, v.offset, vals, 0, vals.length);
        float[] ks = null;
        if (keySide) {
            int slotFloats = (2 * rank + 1) * n;
            float[] dynRows = new float[t * 4 * slotFloats];  // [T, 4, 2I+1, N]
            MemorySegment.copy(dyn.seg(), CpuTensor.F32, dyn.offset, dynRows, 0, dynRows.length);
            ks = new float[2 * slotFloats * t + L];          // [2·(2I+1)·N, T] + one vector of padding
            for (int i = 0; i < t; i++) {
                for (int part = 0; part < 2; part++) {
                    int src = (i * 4 + 1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        ks[(part * slotFloats + x) * t + i] = dynRows[src + x];
                    }
                }
            }
        }
        return new float[][] {kt, vals, ks};
    }

    /** Writes rows [from, t) of the call's keys, values and key-side factors into their ring slots. */
    static void append(CpuTensor k, CpuTensor v, CpuTensor dyn, CpuKvCache cache, int start, int from, int t) {
        var cs = cache.spec();
        int cap = cs.capacity();
        int stride = cache.stride;
        int nd = cs.numHeads() * cs.headDim();
        boolean keySide = cache.keySide != null && dyn != null;
        int slotFloats = (2 * cs.rank() + 1) * cs.numHeads();
        float[] row = new float[Math.max(nd, 4 * slotFloats)];
        for (int i = from; i < t; i++) {
            int slot = (start + i) % cap;
            MemorySegment.copy(k.seg(), CpuTensor.F32, k.offset + 4L * i * nd, row, 0, nd);
            for (int x = 0; x < nd; x++) {
                cache.keys[x * stride + slot] = row[x];
            }
            MemorySegment.copy(v.seg(), CpuTensor.F32, v.offset + 4L * i * nd, cache.values, slot * nd, nd);
            if (keySide) {
                MemorySegment.copy(dyn.seg(), CpuTensor.F32, dyn.offset + 4L * i * 4 * slotFloats, row, 0, 4 * slotFloats);
                for (int part = 0; part < 2; part++) {
                    int src = (1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        cache.keySide[(part * slotFloats + x) * stride + slot] = row[src + x];
                    }
                }
            }
        }
    }
}
