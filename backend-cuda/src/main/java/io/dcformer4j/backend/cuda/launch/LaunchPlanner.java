package io.dcformer4j.backend.cuda.launch;

import static io.dcformer4j.backend.cuda.launch.KernelArg.f32;
import static io.dcformer4j.backend.cuda.launch.KernelArg.i32;
import static io.dcformer4j.backend.cuda.launch.KernelArg.ptr;

import io.dcformer4j.api.DType;
import java.util.List;

/**
 * Launch geometry and argument lists of every operation, computed from shapes and device addresses only
 * (no driver types), so they can be tested on a machine without a GPU. Callers skip empty work (a zero
 * element count is rejected here).
 */
public final class LaunchPlanner {
    /** Threads per block of element-wise and row kernels. */
    public static final int BLOCK = 256;
    /** Rows handled by one block of a warp-per-row kernel. */
    public static final int WARPS_PER_BLOCK = BLOCK / 32;
    /** Below this many query rows a linear layer uses the GEMV kernel. */
    public static final int GEMV_MAX_ROWS = 8;
    /** Output tile of the GEMM kernels. */
    public static final int GEMM_TILE = 64;

    private LaunchPlanner() {
    }

    /** Blocks of {@code per} items covering {@code n} items. */
    public static int blocks(long n, int per) {
        if (n <= 0) {
            throw new IllegalArgumentException("a launch needs at least one item, got " + n);
        }
        long b = (n + per - 1) / per;
        if (b > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(n + " items need more than 2^31-1 blocks");
        }
        return (int) b;
    }

    private static int count(long n, String what) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " has " + n + " elements, more than a kernel index holds (2^31-1)");
        }
        return (int) n;
    }

    /** The linear kernel for a weight type and row count. */
    public static KernelSpec linearKernel(DType weightType, int rows) {
        boolean gemv = rows < GEMV_MAX_ROWS;
        return switch (weightType) {
            case F32 -> gemv ? Kernels.GEMV_F32 : Kernels.GEMM_F32;
            case BF16 -> gemv ? Kernels.GEMV_BF16 : Kernels.GEMM_TC_BF16;
            case F16 -> gemv ? Kernels.GEMV_F16 : Kernels.GEMM_TC_F16;
            // a prefill's Q8_0 weights are first widened to F32 (dequantQ8), then go through the F32 GEMM
            case Q8_0 -> gemv ? Kernels.GEMV_Q8 : Kernels.GEMM_F32;
            case I32 -> throw new IllegalArgumentException("linear: " + weightType + " weights are not supported");
        };
    }

    /** {@code y[T, out] = x[T, in] . w[out, in]^T + bias}. */
    public static Launch linear(DType weightType, long x, long w, long bias, int biasType, long y, int rows, int out,
                                int in) {
        KernelSpec k = linearKernel(weightType, rows);
        if (rows < GEMV_MAX_ROWS) {
            return new Launch(k, Dim3.of(blocks(out, WARPS_PER_BLOCK), rows), Dim3.of(BLOCK), 0,
                    List.of(ptr(w), ptr(x), ptr(bias), i32(biasType), ptr(y), i32(out), i32(in)));
        }
        int threads = k == Kernels.GEMM_F32 ? 256 : 128;
        Dim3 grid = Dim3.of(blocks(out, GEMM_TILE), blocks(rows, GEMM_TILE));
        return new Launch(k, grid, Dim3.of(threads), 0,
                List.of(ptr(x), ptr(w), ptr(bias), i32(biasType), ptr(y), i32(rows), i32(out), i32(in)));
    }

    /** {@code n} Q8_0 weights at {@code w} widened to F32 at {@code out} (one thread per weight). */
    public static Launch dequantQ8(long w, long out, long n) {
        return new Launch(Kernels.DEQUANT_Q8, Dim3.of(blocks(n, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(w), ptr(out), i32(count(n, "dequant_q8 weights"))));
    }

    /** Grouped RMS norm over {@code groups} groups of {@code g} elements. */
    public static Launch rmsNorm(long x, long gain, int gainType, long out, long groups, int g, float eps) {
        return new Launch(Kernels.RMS_NORM, Dim3.of(blocks(groups, WARPS_PER_BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(x), ptr(gain), i32(gainType), ptr(out), i32(count(groups, "rmsNorm groups")), i32(g),
                        f32(eps)));
    }

    /** LayerNorm of {@code rows} rows of {@code e}. */
    public static Launch layerNorm(long x, long gain, int gainType, long bias, int biasType, long out, long rows,
                                   int e, float eps) {
        return new Launch(Kernels.LAYER_NORM, Dim3.of(blocks(rows, WARPS_PER_BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(x), ptr(gain), i32(gainType), ptr(bias), i32(biasType), ptr(out),
                        i32(count(rows, "layerNorm rows")), i32(e), f32(eps)));
    }

    /** RoPE over [T, H*D] with {@code dr} rotary dims: one thread per pair or pass-through component. */
    public static Launch rope(long x, long out, long invFreq, int t, int h, int d, int dr, int startPos) {
        long items = (long) t * h * (d - dr / 2);
        return new Launch(Kernels.ROPE, Dim3.of(blocks(items, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(x), ptr(out), ptr(invFreq), i32(t), i32(h), i32(d), i32(dr), i32(startPos)));
    }

    /** RoPE over [T, H*D] with row t at {@code positions[t]} (a device array of T ints). */
    public static Launch ropeRows(long x, long out, long invFreq, long positions, int t, int h, int d, int dr) {
        long items = (long) t * h * (d - dr / 2);
        return new Launch(Kernels.ROPE_ROWS, Dim3.of(blocks(items, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(x), ptr(out), ptr(invFreq), ptr(positions), i32(t), i32(h), i32(d), i32(dr)));
    }

    private static Launch elementwise(KernelSpec k, long n, long... ptrs) {
        KernelArg[] args = new KernelArg[ptrs.length + 1];
        for (int i = 0; i < ptrs.length; i++) {
            args[i] = ptr(ptrs[i]);
        }
        args[ptrs.length] = i32(count(n, k.name()));
        return new Launch(k, Dim3.of(blocks(n, BLOCK)), Dim3.of(BLOCK), 0, List.of(args));
    }

    /** silu(gate) * up. */
    public static Launch swiglu(long gate, long up, long out, long n) {
        return elementwise(Kernels.SWIGLU, n, gate, up, out);
    }

    /** Exact GELU. */
    public static Launch gelu(long x, long out, long n) {
        return elementwise(Kernels.GELU, n, x, out);
    }

    /** a + b. */
    public static Launch add(long a, long b, long out, long n) {
        return elementwise(Kernels.ADD, n, a, b, out);
    }

    /** mgate: one block per row, the Mg gate logits in dynamic shared memory. */
    public static Launch mgate(long u, long gateLogits, long out, int t, int f, int mg) {
        return new Launch(Kernels.MGATE, Dim3.of(t), Dim3.of(BLOCK), 4 * mg,
                List.of(ptr(u), ptr(gateLogits), ptr(out), i32(t), i32(f), i32(mg)));
    }

    /** Softmax over rows of {@code cols}. */
    public static Launch softmax(long x, long out, long rows, int cols) {
        return new Launch(Kernels.SOFTMAX, Dim3.of(blocks(rows, WARPS_PER_BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(x), ptr(out), i32(count(rows, "softmax rows")), i32(cols)));
    }

    /** Embedding lookup of T tokens into [T, E]. */
    public static Launch embedding(long table, int tableType, long tokens, long out, int t, int e) {
        return new Launch(Kernels.EMBEDDING, Dim3.of(blocks((long) t * e, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(table), i32(tableType), ptr(tokens), ptr(out), i32(t), i32(e)));
    }

    /** Storage conversion of n elements. */
    public static Launch convert(long src, int srcType, long dst, int dstType, long n) {
        return new Launch(Kernels.CONVERT, Dim3.of(blocks(n, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(src), i32(srcType), ptr(dst), i32(dstType), i32(count(n, "convert"))));
    }

    /** Floats of the dynamic-weight hidden scratch [T, 4K + 4N]. */
    public static long dynamicHiddenFloats(int t, int k, int n) {
        return (long) t * (4L * k + 4L * n);
    }

    /** The two dynamic-weight launches: hidden layer and gates, then the low-rank factors. */
    public static List<Launch> dynamicWeights(long a, long dw1, int dw1Type, long dd, int ddType, long qkw,
                                              int qkwType, long hid, long out, int t, int e, int k, int n, int rank) {
        int k4 = 4 * k;
        int n4 = 4 * n;
        Launch hidden = new Launch(Kernels.DW_HIDDEN, Dim3.of(blocks(k4 + n4, 32), t), new Dim3(32, 8, 1), 0,
                List.of(ptr(a), ptr(dw1), i32(dw1Type), ptr(dd), i32(ddType), ptr(hid), i32(t), i32(e), i32(k4),
                        i32(n4)));
        return List.of(hidden, dynamicWeightFactors(qkw, qkwType, hid, out, t, k, n, rank));
    }

    /**
     * {@link #dynamicWeights} from the projection [T, 4K + 4N] the caller computed: its activations into the
     * hidden scratch (one thread per element), then the same low-rank factors launch.
     */
    public static List<Launch> dynamicWeightsFromProjection(long projected, long qkw, int qkwType, long hid, long out,
                                                            int t, int k, int n, int rank) {
        long items = dynamicHiddenFloats(t, k, n);
        Launch activate = new Launch(Kernels.DW_ACTIVATE, Dim3.of(blocks(items, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(projected), ptr(hid), i32(t), i32(4 * k), i32(4 * n)));
        return List.of(activate, dynamicWeightFactors(qkw, qkwType, hid, out, t, k, n, rank));
    }

    /** dw_weights: one block per (slot, token), r and the RMS factors in dynamic shared memory. */
    private static Launch dynamicWeightFactors(long qkw, int qkwType, long hid, long out, int t, int k, int n, int rank) {
        int threads = Math.min(BLOCK, ((2 * rank + 1) * n + 31) / 32 * 32);
        return new Launch(Kernels.DW_WEIGHTS, Dim3.of(4, t), Dim3.of(threads), 4 * (2 * rank * n + rank),
                List.of(ptr(hid), ptr(qkw), i32(qkwType), ptr(out), i32(t), i32(k), i32(n), i32(rank)));
    }

    /**
     * Device addresses of one attention call.
     *
     * @param q       [T, N*D]
     * @param k       [T, N*D]
     * @param v       [T, N*D]
     * @param dyn     [T, 4, 2I+1, N] or 0 (plain MHA)
     * @param kcache  [cap, N*D]
     * @param vcache  [cap, N*D]
     * @param kwcache [cap, 2, 2I+1, N] or 0
     * @param spre    static pre weight [N, N] or 0
     * @param spost   static post weight [N, N] or 0
     * @param out     [T, N*D]
     */
    public record AttentionBuffers(long q, long k, long v, long dyn, long kcache, long vcache, long kwcache,
                                   long spre, long spost, long out) {
    }

    /**
     * Scalars of one attention call.
     *
     * @param t      new tokens
     * @param length positions already in the cache (L)
     * @param cap    cache capacity
     * @param n      heads
     * @param d      head dim
     * @param rank   I (0 for plain MHA)
     * @param mode   0 DCMHA, 1 query-wise, 2 plain
     * @param window visible keys per query (0: global), the R24 quirk already applied
     * @param swType type code of the static weights
     */
    public record AttentionShape(int t, int length, int cap, int n, int d, int rank, int mode, int window,
                                 int swType) {
        /** The logit scale 1/sqrt(D). */
        public float scale() {
            return (float) (1.0 / Math.sqrt(d));
        }
    }

    /** The fused prefill launch. */
    public static Launch attentionPrefill(AttentionBuffers b, AttentionShape s, AttentionTiling.Prefill tiling) {
        return new Launch(Kernels.ATTN_PREFILL, Dim3.of(tiling.blocks()), Dim3.of(AttentionTiling.THREADS),
                tiling.sharedBytes(),
                List.of(ptr(b.q()), ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(b.kcache()), ptr(b.vcache()),
                        ptr(b.kwcache()), ptr(b.spre()), ptr(b.spost()), i32(s.swType()), ptr(b.out()), i32(s.t()),
                        i32(s.length()), i32(s.cap()), i32(s.n()), i32(s.d()), i32(s.rank()), i32(s.mode()),
                        i32(s.window()), f32(s.scale()), i32(tiling.queryTile()), i32(tiling.keyTile())));
    }

    /**
     * Device scratch of one decode call.
     *
     * @param logits  [N][numKeys]
     * @param partial [splits][2][N]
     * @param lse     [N]
     * @param opart   [splits][N*D]
     */
    public record DecodeScratch(long logits, long partial, long lse, long opart) {
    }

    /** The four decode launches: logits and partials, LSE, post-compose and PV partials, reduction. */
    public static List<Launch> attentionDecode(AttentionBuffers b, AttentionShape s, AttentionTiling.Decode tiling,
                                               DecodeScratch scratch) {
        Dim3 grid = Dim3.of(tiling.splits());
        Dim3 block = Dim3.of(AttentionTiling.THREADS);
        Launch logits = new Launch(Kernels.ATTN_DECODE_LOGITS, grid, block, tiling.sharedBytes(),
                List.of(ptr(b.q()), ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(b.kcache()), ptr(b.vcache()),
                        ptr(b.kwcache()), ptr(b.spre()), i32(s.swType()), ptr(scratch.logits()),
                        ptr(scratch.partial()), i32(s.length()), i32(s.cap()), i32(s.n()), i32(s.d()),
                        i32(s.rank()), i32(s.mode()), i32(s.window()), f32(s.scale()), i32(tiling.chunk())));
        Launch lse = new Launch(Kernels.ATTN_DECODE_LSE, Dim3.of(blocks(s.n(), BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(scratch.partial()), ptr(scratch.lse()), i32(tiling.splits()), i32(s.n())));
        Launch pv = new Launch(Kernels.ATTN_DECODE_PV, grid, block, tiling.sharedBytes(),
                List.of(ptr(b.q()), ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(b.kcache()), ptr(b.vcache()),
                        ptr(b.kwcache()), ptr(b.spost()), i32(s.swType()), ptr(scratch.logits()),
                        ptr(scratch.lse()), ptr(scratch.opart()), i32(s.length()), i32(s.cap()), i32(s.n()),
                        i32(s.d()), i32(s.rank()), i32(s.mode()), i32(s.window()), i32(tiling.chunk())));
        int nd = s.n() * s.d();
        Launch reduce = new Launch(Kernels.ATTN_DECODE_REDUCE, Dim3.of(blocks(nd, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(scratch.opart()), ptr(b.out()), i32(tiling.splits()), i32(nd)));
        return List.of(logits, lse, pv, reduce);
    }

    /** Longs per row of the batched decode's row table: kcache, vcache, kwcache, L, cap, chunk, splits. */
    public static final int DECODE_ROW_FIELDS = 7;

    /**
     * One batched decode row: its cache's buffers, its cache length (the row's position) and capacity, and the
     * tiling its own decode uses.
     */
    public record DecodeRow(long kcache, long vcache, long kwcache, int length, int cap, AttentionTiling.Decode tiling) {
        /** The row's entry of the row table the batched kernels read. */
        public long[] fields() {
            return new long[] {kcache, vcache, kwcache, length, cap, tiling.chunk(), tiling.splits()};
        }
    }

    /** The row table of a batch, [B][{@value #DECODE_ROW_FIELDS}], as the kernels read it. */
    public static long[] decodeRowTable(List<DecodeRow> rows) {
        long[] table = new long[rows.size() * DECODE_ROW_FIELDS];
        for (int b = 0; b < rows.size(); b++) {
            System.arraycopy(rows.get(b).fields(), 0, table, b * DECODE_ROW_FIELDS, DECODE_ROW_FIELDS);
        }
        return table;
    }

    /**
     * Per-row strides, in floats, of the batched decode's scratch (each row's region is as large as the largest
     * row needs) and the launch geometry common to the rows.
     */
    public record BatchLayout(int logitStride, int partialStride, int outputPartialStride, int maxSplits,
                              int sharedBytes) {
        /** The layout of {@code rows} rows of N heads of D. */
        public static BatchLayout of(List<DecodeRow> rows, int n, int d) {
            long logits = 0;
            long partials = 0;
            long outputs = 0;
            int splits = 0;
            int shared = 0;
            for (DecodeRow r : rows) {
                logits = Math.max(logits, r.tiling().logitFloats(n));
                partials = Math.max(partials, r.tiling().partialFloats(n));
                outputs = Math.max(outputs, r.tiling().outputPartialFloats(n, d));
                splits = Math.max(splits, r.tiling().splits());
                shared = Math.max(shared, r.tiling().sharedBytes());
            }
            return new BatchLayout(count(logits, "batched decode logits"), count(partials, "batched decode partials"),
                    count(outputs, "batched decode output partials"), splits, shared);
        }
    }

    /**
     * The batched decode: the four phases of {@link #attentionDecode} with one launch each for all B rows (row b
     * = blockIdx.y, split as its own decode is), then one append launch. {@code b} holds the batch's [B, ...]
     * q, k, v, dyn and out and the static weights (its cache fields are unused: each row's come from the table at
     * {@code rowTable}); the scratch buffers hold B regions of the layout's strides.
     */
    public static List<Launch> attentionDecodeBatch(AttentionBuffers b, AttentionShape s, int batch, long rowTable,
                                                    BatchLayout layout, DecodeScratch scratch, boolean keySide) {
        Dim3 grid = Dim3.of(layout.maxSplits(), batch);
        Dim3 block = Dim3.of(AttentionTiling.THREADS);
        Launch logits = new Launch(Kernels.ATTN_DECODE_LOGITS_BATCH, grid, block, layout.sharedBytes(),
                List.of(ptr(b.q()), ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(rowTable), ptr(b.spre()), i32(s.swType()),
                        ptr(scratch.logits()), ptr(scratch.partial()), i32(layout.logitStride()),
                        i32(layout.partialStride()), i32(s.n()), i32(s.d()), i32(s.rank()), i32(s.mode()),
                        i32(s.window()), f32(s.scale())));
        Launch lse = new Launch(Kernels.ATTN_DECODE_LSE_BATCH, Dim3.of(blocks(s.n(), BLOCK), batch), Dim3.of(BLOCK), 0,
                List.of(ptr(scratch.partial()), ptr(scratch.lse()), ptr(rowTable), i32(layout.partialStride()),
                        i32(s.n())));
        Launch pv = new Launch(Kernels.ATTN_DECODE_PV_BATCH, grid, block, layout.sharedBytes(),
                List.of(ptr(b.q()), ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(rowTable), ptr(b.spost()),
                        i32(s.swType()), ptr(scratch.logits()), ptr(scratch.lse()), ptr(scratch.opart()),
                        i32(layout.logitStride()), i32(layout.outputPartialStride()), i32(s.n()), i32(s.d()),
                        i32(s.rank()), i32(s.mode()), i32(s.window())));
        int nd = s.n() * s.d();
        Launch reduce = new Launch(Kernels.ATTN_DECODE_REDUCE_BATCH, Dim3.of(blocks(nd, BLOCK), batch), Dim3.of(BLOCK), 0,
                List.of(ptr(scratch.opart()), ptr(b.out()), ptr(rowTable), i32(layout.outputPartialStride()), i32(nd)));
        long items = (long) nd + (keySide ? 2L * (2L * s.rank() + 1) * s.n() : 0);
        Launch append = new Launch(Kernels.KV_APPEND_BATCH, Dim3.of(blocks(items, BLOCK), batch), Dim3.of(BLOCK), 0,
                List.of(ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(rowTable), i32(s.n()), i32(s.d()), i32(s.rank()),
                        i32(keySide ? 1 : 0)));
        return List.of(logits, lse, pv, reduce, append);
    }

    /**
     * The unfused baseline of a prefill from an empty cache (benchmarks only): logits into {@code scores}
     * [N][T][T], pre-compose, masked softmax, post-compose (both skipped for plain MHA), probabilities · V.
     * {@code scratch} is a second [N][T][T] buffer, needed only with static weights.
     */
    public static List<Launch> attentionUnfused(AttentionBuffers b, AttentionShape s, long scores, long scratch) {
        long pairs = (long) s.t() * s.t();
        Dim3 block = Dim3.of(BLOCK);
        List<Launch> out = new java.util.ArrayList<>();
        out.add(new Launch(Kernels.UNFUSED_LOGITS, Dim3.of(blocks(pairs * s.n(), BLOCK)), block, 0,
                List.of(ptr(b.q()), ptr(b.k()), ptr(scores), i32(s.t()), i32(s.n()), i32(s.d()), i32(s.window()),
                        f32(s.scale()))));
        boolean compose = s.mode() != 2;
        if (compose) {
            out.add(unfusedCompose(b, s, scores, scratch, 0, b.spre()));
        }
        out.add(new Launch(Kernels.UNFUSED_SOFTMAX, Dim3.of(blocks((long) s.n() * s.t(), WARPS_PER_BLOCK)), block, 0,
                List.of(ptr(scores), i32(s.t()), i32(s.n()), i32(s.window()))));
        if (compose) {
            out.add(unfusedCompose(b, s, scores, scratch, 1, b.spost()));
        }
        out.add(new Launch(Kernels.UNFUSED_PV, Dim3.of(blocks((long) s.t() * s.n() * s.d(), BLOCK)), block, 0,
                List.of(ptr(scores), ptr(b.v()), ptr(b.out()), i32(s.t()), i32(s.n()), i32(s.d()), i32(s.window()))));
        return out;
    }

    private static Launch unfusedCompose(AttentionBuffers b, AttentionShape s, long scores, long scratch, int post,
                                         long sw) {
        return new Launch(Kernels.UNFUSED_COMPOSE, Dim3.of(blocks((long) s.t() * s.t(), BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(scores), ptr(b.dyn()), ptr(sw), i32(s.swType()), ptr(scratch), i32(s.t()), i32(s.n()),
                        i32(s.rank()), i32(s.mode()), i32(s.window()), i32(post)));
    }

    /** Appends T fresh positions to the caches (only the last {@code cap} are written). */
    public static Launch kvAppend(AttentionBuffers b, AttentionShape s, boolean keySide) {
        int kept = Math.min(s.t(), s.cap());
        long items = (long) kept * s.n() * s.d() + (keySide ? 2L * kept * (2L * s.rank() + 1) * s.n() : 0);
        return new Launch(Kernels.KV_APPEND, Dim3.of(blocks(items, BLOCK)), Dim3.of(BLOCK), 0,
                List.of(ptr(b.k()), ptr(b.v()), ptr(b.dyn()), ptr(b.kcache()), ptr(b.vcache()), ptr(b.kwcache()),
                        i32(s.t()), i32(s.length()), i32(s.cap()), i32(s.n()), i32(s.d()), i32(s.rank()),
                        i32(keySide ? 1 : 0)));
    }
}
