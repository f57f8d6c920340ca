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
 * <p>The key range is split into {@link KeyPiece}s: one per cache page it touches (positions before the call)
 * and the call's fresh block. A decode call appends its token to the cache first and reads
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
        /** The block's key pieces (one per cache page, and the fresh block), grown on demand. */
        KeyPiece[] pieces = new KeyPiece[4];
        /** A worker's share of the pieces in a split decode (the caller's own pieces stay intact). */
        KeyPiece[] subPieces = new KeyPiece[4];
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
     * @param fresh      the call's own keys and values for a prefill ({@link FreshBlock}), {@code null} for a decode
     *                   (which reads only the cache)
     * @param row        the call's first row in q, dyn and out (a batch's row; 0 otherwise)
     */
    record Call(CpuTensor q, CpuTensor dyn, CpuKvCache cache, AttentionSpec spec, CpuTensor out, int t, int start,
                float[] staticPre, float[] staticPost, KeyBlock fresh, int row) {
        boolean prefill() {
            return fresh != null;
        }

        /** Byte offset in q of the call's query row {@code r} (rows start at {@code row} of a batch's tensors). */
        long qAt(int r) {
            return q.offset + 4L * (row + r) * spec.numHeads() * spec.headDim();
        }

        /** Byte offset in out of the call's row {@code r}. */
        long outAt(int r) {
            return out.offset + 4L * (row + r) * spec.numHeads() * spec.headDim();
        }

        /** Byte offset in dyn of slot {@code slot} of the call's row {@code r}: [T, 4, 2I+1, N]. */
        long dynAt(int r, int slot) {
            int slotFloats = (2 * spec.rank() + 1) * spec.numHeads();
            return dyn.offset + 4L * ((long) (row + r) * 4 + slot) * slotFloats;
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
        run(in, 0, cache, spec, staticPre, staticPost, pool, scratch, null);
    }

    /** How the pieces of a split decode are run: over the pool, or in order on the calling thread. */
    @FunctionalInterface
    interface Loop {
        void run(int n, int grain, WorkerPool.RangeBody body);
    }

    /**
     * {@link #run(Tensors, CpuKvCache, AttentionSpec, float[], float[], WorkerPool, ThreadLocal)} for the one
     * decode row {@code row} of a batch's tensors when {@code inOrder} is not null (the other arguments as there),
     * with the work split exactly as for that row alone but every piece run by {@code inOrder} on the calling
     * thread (the batch's rows already run in parallel): the floats depend on the split, not on which thread runs
     * a piece, so a batched row equals the same row alone. With {@code inOrder} null, {@code row} is 0 and the
     * call covers every row of the tensors.
     */
    static void run(Tensors in, int row, CpuKvCache cache, AttentionSpec spec, float[] staticPre, float[] staticPost,
                    WorkerPool pool, ThreadLocal<Scratch> scratch, Loop inOrder) {
        int t = inOrder == null ? in.q().shape().dim(0) : 1;
        int start = cache.length();
        cache.ensure(start + t);
        boolean keySide = cache.keepsKeySide() && in.dyn() != null;
        if (t == 1) {
            append(in.k(), in.v(), in.dyn(), row, cache, start, 0, 1);
            attend(new Call(in.q(), in.dyn(), cache, spec, in.out(), 1, start, staticPre, staticPost, null, row), pool,
                    scratch, inOrder);
        } else {
            // the fresh block lives off the heap for this call only (pooled memory: no arena to close per call)
            try (NativePool.Scratch memory = new NativePool.Scratch()) {
                KeyBlock fresh = FreshBlock.of(memory, in.k(), in.v(), in.dyn(), t, spec.numHeads(), spec.headDim(),
                        spec.rank(), spec.mode() == AttentionMode.DCMHA);
                attend(new Call(in.q(), in.dyn(), cache, spec, in.out(), t, start, staticPre, staticPost, fresh, 0), pool,
                        scratch, inOrder);
            }
            append(in.k(), in.v(), keySide ? in.dyn() : null, 0, cache, start, Math.max(0, t - cache.spec().capacity()), t);
        }
        cache.advance(t);
    }

    /** Every query row of the call, split over the pool as the call's size asks. */
    private static void attend(Call call, WorkerPool pool, ThreadLocal<Scratch> scratch, Loop inOrder) {
        int t = call.t();
        int start = call.start();
        AttentionSpec spec = call.spec();
        int visible = start + 1 - spec.firstVisibleKey(start, false);
        if (t == 1 && pool.threads() > 1 && visible >= 2 * DECODE_SPLIT_KEYS) {
            DecodeSplit.run(call, pool.threads(), inOrder == null ? pool::parallelFor : inOrder, scratch);
        } else if (inOrder == null) {
            pool.parallelFor(PrefillBlocks.count(t), 1, (a, b) -> PrefillBlocks.run(call, a, b, scratch.get()));
        } else {
            PrefillBlocks.run(call, 0, PrefillBlocks.count(t), scratch.get());
        }
    }

    /**
     * Splits key positions [lo, hi] into pieces, one per cache page they touch (a ring run that wraps starts a new
     * page at slot 0) and the fresh block, into {@code sc.pieces} (grown when needed); returns how many.
     */
    static int pieces(Call c, int lo, int hi, Scratch sc) {
        CpuKvCache cache = c.cache();
        int cap = cache.spec().capacity();
        int ps = cache.pageSlots;
        int freshStart = c.prefill() ? c.start() : Integer.MAX_VALUE;
        int cachedEnd = (int) Math.min((long) hi + 1, freshStart);
        int most = (lo < cachedEnd ? (cachedEnd - lo) / ps + 3 : 0) + 1;
        if (sc.pieces.length < most) {
            sc.pieces = new KeyPiece[most];
            sc.subPieces = new KeyPiece[most];
        }
        KeyPiece[] out = sc.pieces;
        int np = 0;
        int first = 0;
        for (int p = lo; p < cachedEnd; ) {
            int slot = p % cap;
            int col = slot % ps;
            int run = Math.min(cachedEnd - p, Math.min(cap - slot, ps - col));
            out[np++] = new KeyPiece(cache.page(slot), col, first, run);
            p += run;
            first += run;
        }
        if (hi >= freshStart) {
            int from = Math.max(lo, freshStart);
            out[np++] = new KeyPiece(c.fresh(), from - c.start(), from - lo, hi - from + 1);
        }
        return np;
    }

    /**
     * Writes rows [from, t) of the call's keys, values and key-side factors into their ring slots; the call's rows
     * start at row {@code row} of the tensors.
     */
    static void append(CpuTensor k, CpuTensor v, CpuTensor dyn, int row, CpuKvCache cache, int start, int from, int t) {
        var cs = cache.spec();
        int cap = cs.capacity();
        int ps = cache.pageSlots;
        int nh = cs.numHeads();
        int hd = cs.headDim();
        int nd = nh * hd;
        boolean keySide = cache.keepsKeySide() && dyn != null;
        int slotFloats = (2 * cs.rank() + 1) * cs.numHeads();
        // segment to segment, element by element where the layout transposes: nothing on the Java heap
        for (int i = from; i < t; i++) {
            int slot = (start + i) % cap;
            KeyBlock page = cache.page(slot);
            int col = slot % ps;
            long src = k.offset + 4L * (row + i) * nd;
            MemorySegment keys = page.keys();
            MemorySegment ks = k.seg();
            for (int x = 0; x < nd; x++) {
                keys.set(CpuTensor.F32, 4L * (x * ps + col), ks.get(CpuTensor.F32, src + 4L * x));
            }
            long vsrc = v.offset + 4L * (row + i) * nd;
            for (int m = 0; m < nh; m++) {
                MemorySegment.copy(v.seg(), vsrc + 4L * m * hd, page.values(), 4L * ((long) m * ps + col) * hd, 4L * hd);
            }
            if (keySide) {
                MemorySegment factors = page.keySide();
                MemorySegment ds = dyn.seg();
                for (int part = 0; part < 2; part++) {
                    long from1 = dyn.offset + 4L * ((long) (row + i) * 4 + 1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        factors.set(CpuTensor.F32, 4L * ((part * slotFloats + x) * ps + col),
                                ds.get(CpuTensor.F32, from1 + 4L * x));
                    }
                }
            }
        }
    }
}
