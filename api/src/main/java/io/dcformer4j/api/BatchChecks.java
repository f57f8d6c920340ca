package io.dcformer4j.api;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Argument checks of the batched operations ({@link Backend#ropeRows}, {@link Backend#attentionDecodeBatch})
 * with one wording for every backend: the default implementations use them, and a backend that overrides
 * the operations can call them first to refuse the same arguments with the same messages.
 */
public final class BatchChecks {
    private BatchChecks() {
    }

    /**
     * The number of rows T of {@code x} [T, cols...] for {@code ropeRows}, after checking that there is one
     * non-negative position per row.
     */
    public static int ropeRows(Tensor x, int[] positions, RopeSpec spec, Tensor out) {
        String op = "ropeRows";
        requireNonNull(op, "x", x);
        requireNonNull(op, "out", out);
        if (spec == null) {
            throw new IllegalArgumentException(op + ": RoPE spec is null");
        }
        if (positions == null) {
            throw new IllegalArgumentException(op + ": positions are null");
        }
        OpChecks.requireF32(op, "x", x);
        OpChecks.requireF32(op, "out", out);
        int cols = x.shape().cols();
        if (cols % spec.headDim() != 0) {
            throw new IllegalArgumentException(op + ": x " + TensorChecks.describe(x) + " has " + cols
                    + " columns, expected [T, H·" + spec.headDim() + "] (a multiple of headDim " + spec.headDim() + ")");
        }
        int rows = rows(op, x);
        if (positions.length != rows) {
            throw new IllegalArgumentException(op + ": " + positions.length + " positions for " + rows + " rows of "
                    + TensorChecks.describe(x) + "; give one position per row");
        }
        if (!out.shape().equals(x.shape())) {
            throw new IllegalArgumentException(op + ": out " + TensorChecks.describe(out) + " must have the shape of x "
                    + TensorChecks.describe(x));
        }
        for (int t = 0; t < positions.length; t++) {
            if (positions[t] < 0) {
                throw new IllegalArgumentException(op + ": position of row " + t + " is " + positions[t] + ", must be >= 0");
            }
        }
        return rows;
    }

    /**
     * The batch size B of {@code attentionDecodeBatch}, after checking that q, k, v, out (and dyn when the mode
     * needs it) are B rows of the spec's width, that there is one cache per row, that no cache appears twice
     * (row b appends to cache b, so two rows sharing a cache would race for the same slot), and that every cache
     * fits the spec and has room for one more position. A batch that passes these checks does not fail
     * part-way on the shape or room of one row, so a refused batch leaves every cache as it was.
     */
    public static int attentionDecodeBatch(Tensor q, Tensor k, Tensor v, Tensor dyn, List<KvCache> caches,
                                           AttentionSpec spec, Tensor out) {
        return attentionDecodeBatchSizes(q, k, v, dyn, caches, spec, out).rows();
    }

    /**
     * What a backend needs to run a checked batch without checking each row again: every row shares them
     * (row b's own position is the length of cache b).
     *
     * @param rows          B
     * @param heads         N
     * @param headDim       D
     * @param rank          I (0 for plain MHA)
     * @param staticWeights whether the static compose weights are applied (given and the mode composes)
     */
    public record DecodeBatchSizes(int rows, int heads, int headDim, int rank, boolean staticWeights) {
        /** N · D, the width of a row of q, k, v and out. */
        public int width() {
            return heads * headDim;
        }
    }

    /**
     * {@link #attentionDecodeBatch} returning the sizes the rows share; besides its checks, every rule that
     * {@link OpChecks#attentionDecode} applies to one row holds for every row (F32 tensors, a DCMHA cache with
     * key-side factors of the spec's rank, static weights of [N, N]), so a backend need not check rows one by one.
     */
    public static DecodeBatchSizes attentionDecodeBatchSizes(Tensor q, Tensor k, Tensor v, Tensor dyn, List<KvCache> caches,
                                                             AttentionSpec spec, Tensor out) {
        String op = "attentionDecodeBatch";
        if (spec == null) {
            throw new IllegalArgumentException(op + ": attention spec is null");
        }
        requireNonNull(op, "q", q);
        requireNonNull(op, "k", k);
        requireNonNull(op, "v", v);
        requireNonNull(op, "out", out);
        if (caches == null) {
            throw new IllegalArgumentException(op + ": caches are null");
        }
        OpChecks.requireF32(op, "q", q);
        OpChecks.requireF32(op, "k", k);
        OpChecks.requireF32(op, "v", v);
        OpChecks.requireF32(op, "out", out);
        int b = rows(op, q);
        if (b == 0) {
            throw new IllegalArgumentException(op + ": q " + TensorChecks.describe(q) + " has no rows; a batch needs at least one");
        }
        for (Tensor t : dyn == null ? new Tensor[] {k, v, out} : new Tensor[] {k, v, out, dyn}) {
            if (rows(op, t) != b) {
                throw new IllegalArgumentException(op + ": " + TensorChecks.describe(t) + " has " + t.shape().dim(0)
                        + " rows, expected " + b + " (the rows of q " + TensorChecks.describe(q) + ")");
            }
        }
        int width = spec.numHeads() * spec.headDim();
        for (Tensor t : new Tensor[] {q, k, v, out}) {
            if (t.shape().numel() != (long) b * width) {
                throw new IllegalArgumentException(op + ": " + TensorChecks.describe(t) + " is not [" + b + ", " + width
                        + "] (B rows of N·D for N = " + spec.numHeads() + ", D = " + spec.headDim() + ")");
            }
        }
        if (spec.mode().usesDynamicWeights()) {
            if (dyn == null) {
                throw new IllegalArgumentException(op + ": mode " + spec.mode() + " needs the dynamic weights, dyn is null");
            }
            OpChecks.requireF32(op, "dyn", dyn);
            if (dyn.shape().numel() != (long) b * spec.dynamicWeightsPerToken()) {
                throw new IllegalArgumentException(op + ": dyn " + TensorChecks.describe(dyn) + " is not [" + b + ", 4, "
                        + (2 * spec.rank() + 1) + ", " + spec.numHeads() + "]");
            }
        }
        if (caches.size() != b) {
            throw new IllegalArgumentException(op + ": " + caches.size() + " caches for a batch of " + b
                    + " rows; give one cache per row");
        }
        int rank = spec.mode() == AttentionMode.PLAIN_MHA ? 0 : spec.rank();
        boolean statics = spec.staticPre() != null && spec.mode() != AttentionMode.PLAIN_MHA;
        if (statics) {
            OpChecks.requireStatic(op, "staticPre", spec.staticPre(), spec.numHeads());
            OpChecks.requireStatic(op, "staticPost", spec.staticPost(), spec.numHeads());
        }
        Set<KvCache> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < b; i++) {
            KvCache c = caches.get(i);
            if (c == null) {
                throw new IllegalArgumentException(op + ": cache of row " + i + " is null");
            }
            if (!seen.add(c)) {
                throw new IllegalArgumentException(op + ": cache of row " + i + " (" + c.spec() + ") also serves an earlier row;"
                        + " every row needs its own cache");
            }
            KvCacheSpec cs = c.spec();
            if (cs.numHeads() != spec.numHeads() || cs.headDim() != spec.headDim()) {
                throw new IllegalArgumentException(op + ": cache of row " + i + " " + cs + " has " + cs.numHeads() + " heads of "
                        + cs.headDim() + ", the attention spec needs " + spec.numHeads() + " heads of " + spec.headDim());
            }
            if (spec.mode().usesKeySide() && (!cs.keySide() || cs.rank() != rank)) {
                throw new IllegalArgumentException(op + ": cache of row " + i + ": DCMHA needs a KV cache with key-side"
                        + " factors of rank " + rank + ", got " + cs);
            }
            if (spec.isLocal()) {
                int need = spec.window() + (spec.windowPlusOneInPrefill() ? 1 : 0);
                if (cs.capacity() < need) {
                    throw new IllegalArgumentException(op + ": cache of row " + i + ": a local layer with window " + spec.window()
                            + " needs at least " + need + " slots, got capacity " + cs.capacity());
                }
            } else if ((long) c.length() + 1 > cs.capacity()) {
                throw new IllegalArgumentException(op + ": cache of row " + i + ": global layer cache capacity " + cs.capacity()
                        + " is full (" + c.length() + " positions)");
            }
        }
        return new DecodeBatchSizes(b, spec.numHeads(), spec.headDim(), rank, statics);
    }

    private static void requireNonNull(String op, String role, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + role + " is null");
        }
    }

    private static int rows(String op, Tensor t) {
        if (t.shape().rank() == 0) {
            throw new IllegalArgumentException(op + ": " + TensorChecks.describe(t) + " is a scalar, expected rows");
        }
        return t.shape().dim(0);
    }
}
