package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * The fused DCMHA attention of spec §4.8, entered through {@link #run}. Query rows are taken in blocks of
 * {@value #R} with all heads together ({@link PrefillBlocks}); a long decode row instead splits its keys over the
 * workers ({@link DecodeSplit}). For a block's key range (the union of its rows' visible keys) the kernel
 * fills an [R, N, |S|] scratch with scaled logits (keys stored transposed, so a vector holds consecutive keys
 * and the R rows share every key load), pre-composes every key column ({@link ComposeLoop}), softmaxes each
 * row's visible keys per head, post-composes, zeroes the keys a row cannot see, and multiplies by V
 * ({@link AttentionLoops}).
 *
 * <p>The key range is split into at most three {@link KeyPiece}s: up to two runs of ring slots (positions
 * before the call) and the call's fresh block. A decode call appends its token to the cache first and reads
 * everything from there (a ring of at least W slots never overwrites a visible key); a prefill call reads its
 * fresh keys from a {@link FreshBlock} and appends after all rows are done.
 */
final class AttentionKernel {
    /** Query rows per block. */
    static final int R = 4;
    /** Keys per worker below which a decode step stays on the calling thread. */
    static final int DECODE_SPLIT_KEYS = 256;

    /** Per-thread scratch, grown on demand and reused across calls. */
    static final class Scratch {
        float[] logits = new float[0];   // [R, N, Sp]
        float[] q = new float[0];        // [R, N·D]
        float[] out = new float[0];      // [R, N·D]
        float[] query = new float[0];    // [R, 2I+1, N] query-side factors of one slot
        float[] alpha = new float[0];    // [N, L]
        float[] low = new float[0];      // [2I, L]
        /** The block's key pieces (at most two ring runs and the fresh block). */
        final KeyPiece[] pieces = new KeyPiece[3];
        /** A worker's share of the pieces in a split decode (the caller's own pieces stay intact). */
        final KeyPiece[] subPieces = new KeyPiece[3];
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

    /** The tensors of one call, validated and owned by the backend: q, k, v [T, N·D], dyn or null, out. */
    record Tensors(CpuTensor q, CpuTensor k, CpuTensor v, CpuTensor dyn, CpuTensor out) {
    }

    /**
     * Everything the loops of one call read.
     *
     * @param t          T, the call's query rows
     * @param start      the position of the first query (the cache length before the call)
     * @param staticPre  S of pre-compose [N, N], or null
     * @param staticPost S of post-compose [N, N], or null
     * @param fresh      the call's own keys and values for a prefill, {@code null} for a decode (which reads only
     *                   the cache)
     */
    record Call(CpuTensor q, CpuTensor dyn, CpuKvCache cache, AttentionSpec spec, CpuTensor out, int t, int start,
                float[] staticPre, float[] staticPost, FreshBlock fresh) {
        boolean prefill() {
            return fresh != null;
        }
    }

    private AttentionKernel() {
    }

    /**
     * Runs one fused attention call and appends its keys, values and key-side factors to the cache (which then
     * advances by T). The backend has validated every argument.
     */
    static void run(Tensors in, CpuKvCache cache, AttentionSpec spec, float[] staticPre, float[] staticPost,
                    WorkerPool pool, ThreadLocal<Scratch> scratch) {
        run(in, cache, spec, staticPre, staticPost, pool, scratch, null);
    }

    /** How the pieces of a split decode are run: over the pool, or in order on the calling thread. */
    @FunctionalInterface
    interface Loop {
        void run(int n, int grain, WorkerPool.RangeBody body);
    }

    /**
     * {@link #run(Tensors, CpuKvCache, AttentionSpec, float[], float[], WorkerPool, ThreadLocal)} with the work
     * split exactly as there, but every piece run by {@code inOrder} on the calling thread when it is not null
     * (a row of a batch, whose rows already run in parallel): the floats depend on the split, not on which
     * thread runs a piece, so a batched row equals the same row alone.
     */
    static void run(Tensors in, CpuKvCache cache, AttentionSpec spec, float[] staticPre, float[] staticPost,
                    WorkerPool pool, ThreadLocal<Scratch> scratch, Loop inOrder) {
        int t = in.q().shape().dim(0);
        int start = cache.length();
        cache.ensure(start + t);
        boolean keySide = cache.keySide != null && in.dyn() != null;
        Call call;
        if (t == 1) {
            append(in.k(), in.v(), in.dyn(), cache, start, 0, 1);
            call = new Call(in.q(), in.dyn(), cache, spec, in.out(), 1, start, staticPre, staticPost, null);
        } else {
            FreshBlock fresh = FreshBlock.of(in.k(), in.v(), in.dyn(), t, spec.numHeads(), spec.headDim(), spec.rank(),
                    spec.mode() == AttentionMode.DCMHA);
            call = new Call(in.q(), in.dyn(), cache, spec, in.out(), t, start, staticPre, staticPost, fresh);
        }
        int visible = start + 1 - spec.firstVisibleKey(start, false);
        if (t == 1 && pool.threads() > 1 && visible >= 2 * DECODE_SPLIT_KEYS) {
            DecodeSplit.run(call, pool.threads(), inOrder == null ? pool::parallelFor : inOrder, scratch);
        } else if (inOrder == null) {
            pool.parallelFor(PrefillBlocks.count(t), 1, (a, b) -> PrefillBlocks.run(call, a, b, scratch.get()));
        } else {
            PrefillBlocks.run(call, 0, PrefillBlocks.count(t), scratch.get());
        }
        if (t > 1) {
            append(in.k(), in.v(), keySide ? in.dyn() : null, cache, start, Math.max(0, t - cache.spec().capacity()), t);
        }
        cache.advance(t);
    }

    /** Splits key positions [lo, hi] into runs of ring slots and the fresh block, into {@code out}; returns how many. */
    static int pieces(Call c, int lo, int hi, KeyPiece[] out) {
        int cap = c.cache().spec().capacity();
        int freshStart = c.prefill() ? c.start() : Integer.MAX_VALUE;
        int np = 0;
        int cachedEnd = (int) Math.min((long) hi + 1, freshStart);
        if (lo < cachedEnd) {
            int slot = lo % cap;
            int total = cachedEnd - lo;
            int run = Math.min(total, cap - slot);
            out[np++] = new KeyPiece(false, slot, 0, run);
            if (run < total) {
                out[np++] = new KeyPiece(false, 0, run, total - run);
            }
        }
        if (hi >= freshStart) {
            int from = Math.max(lo, freshStart);
            out[np++] = new KeyPiece(true, from - c.start(), from - lo, hi - from + 1);
        }
        return np;
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
