package io.dcformer4j.api;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The argument rules of every {@link Backend} operation, written once: each method checks what an operation
 * may be given (nulls, dtypes, shapes, sizes that must agree) and returns the sizes it resolved, so a
 * backend calls one method, then checks only what is its own business (that the tensors are its own and
 * open, whether an output may share storage with an input) and runs its kernel.
 *
 * <pre>{@code
 * public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
 *     OpChecks.LinearSizes s = OpChecks.linear(x, w, bias, out);
 *     MyTensor xt = own("linear", "x", x);   // ownership and open state: the backend's part
 *     ...
 *     kernel(xt, wt, bt, ot, s.rows(), s.in(), s.out());
 * }
 * }</pre>
 *
 * <p>The rules, for all backends alike:
 * <ul>
 *   <li>A required argument that is {@code null} is an {@link IllegalArgumentException} naming the operation
 *       and the argument (never a {@link NullPointerException}). Optional arguments are documented as such:
 *       {@code linear}'s and {@code layerNorm}'s bias, {@code dyn} of plain-MHA attention.</li>
 *   <li>Activations (inputs and outputs of operations) are F32; weights ({@code w}, {@code table}, gains,
 *       biases, dynamic-weight parameters, static compose weights) may be F32, BF16 or F16. The weight
 *       {@code w} of {@code linear} may also be {@link DType#Q8_0} (on a backend whose
 *       {@link Backend#supportsWeights} says so); a Q8_0 tensor's last axis is a multiple of 32, and no other
 *       operation takes one ({@code copy} neither: it is a weight storage format, not a value type).</li>
 *   <li>A "[T, C]" activation is any shape whose axis 0 is T and whose element count is T·C (so [T, N, D] is a
 *       [T, N·D] activation). Element-wise operations need identical shapes.</li>
 *   <li>{@link Backend#weights} needs a segment of exactly {@link DType#bytesFor dtype.bytesFor(numel)} bytes: a segment of another
 *       size means the caller's shape or dtype is wrong, which copying a prefix would hide.</li>
 * </ul>
 * Every message starts with the operation, names the argument (its role and label) and gives the sizes
 * found and the sizes expected.
 */
public final class OpChecks {
    private OpChecks() {
    }

    // ---------------------------------------------------------------- resolved sizes

    /** {@code embedding}: T token ids into a [vocab, width] table. */
    public record EmbeddingSizes(int tokens, int vocab, int width) {
    }

    /** {@code linear}: x [rows, in] · w [out, in]ᵀ into [rows, out]. */
    public record LinearSizes(int rows, int in, int out) {
    }

    /** {@code rmsNorm}: {@code groups} groups of {@code groupSize} elements, one gain per group element. */
    public record GroupSizes(int groups, int groupSize) {
    }

    /** {@code layerNorm} and {@code softmax}: {@code rows} rows of {@code width} (the last axis). */
    public record RowSizes(int rows, int width) {
    }

    /** {@code rope}: [rows, heads · headDim]. */
    public record RopeSizes(int rows, int heads, int headDim) {
        /** Elements per row, heads · headDim. */
        public int width() {
            return heads * headDim;
        }
    }

    /** {@code mgate}: u [rows, width] gated by softmax over {@code groups} logits per row. */
    public record MgateSizes(int rows, int width, int groups) {
        /** P = F / Mg, the elements of u one gate scales. */
        public int groupWidth() {
            return width / groups;
        }
    }

    /** {@code dynamicWeights}: a [rows, dim] into [rows, 4, 2I+1, N] through a hidden width K. */
    public record DynamicWeightSizes(int rows, int dim, int hidden, int heads, int rank) {
        /** Floats per token of the output: 4 · (2I + 1) · N. */
        public int perToken() {
            return 4 * (2 * rank + 1) * heads;
        }
    }

    /** {@code view}/{@code slice}: where the result starts in the source (in elements) and its shape. */
    public record ViewSizes(long firstElement, Shape shape) {
    }

    /**
     * {@code attentionPrefill}/{@code attentionDecode}.
     *
     * @param rows          T, the new queries (1 for decode)
     * @param heads         N
     * @param headDim       D
     * @param rank          I (0 for plain MHA)
     * @param start         the cache length before the call: position of the first new query
     * @param capacity      the cache's key slots
     * @param keysPerQuery  the keys a query sees in this call (local layers, {@link AttentionSpec#keysPerQuery}),
     *                      0 for a global layer
     * @param staticWeights whether the static compose weights are applied (given and not plain MHA)
     */
    public record AttentionSizes(int rows, int heads, int headDim, int rank, int start, int capacity,
                                 int keysPerQuery, boolean staticWeights) {
        /** N · D, the width of q, k, v and out. */
        public int width() {
            return heads * headDim;
        }
    }

    // ---------------------------------------------------------------- storage

    /** {@link Backend#allocate}: returns the bytes the tensor needs. */
    public static long allocate(DType dtype, Shape shape, String label) {
        return bytes("allocate", dtype, shape, label);
    }

    /** {@link Backend#fromFloats}: a float dtype and exactly {@code numel} values. */
    public static void fromFloats(DType dtype, Shape shape, float[] values, String label) {
        String op = "fromFloats";
        bytes(op, dtype, shape, label);
        if (dtype == DType.I32) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' cannot be I32; use fromInts");
        }
        if (values == null) {
            throw new IllegalArgumentException(op + ": values of tensor '" + label + "' " + shape + " are null");
        }
        requireValueCount(op, label, shape, values.length);
    }

    /** {@link Backend#fromInts}: exactly {@code numel} values. */
    public static void fromInts(Shape shape, int[] values, String label) {
        String op = "fromInts";
        bytes(op, DType.I32, shape, label);
        if (values == null) {
            throw new IllegalArgumentException(op + ": values of tensor '" + label + "' " + shape + " are null");
        }
        requireValueCount(op, label, shape, values.length);
    }

    /** {@link Backend#weights}: a float dtype and a segment of exactly the tensor's bytes; returns them. */
    public static long weights(DType dtype, Shape shape, MemorySegment data, String label) {
        String op = "weights";
        long bytes = bytes(op, dtype, shape, label);
        if (!dtype.isFloating() && dtype != DType.Q8_0) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' is " + dtype
                    + ", expected F32, BF16, F16 or Q8_0");
        }
        if (data == null) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' has no data segment (null)");
        }
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' " + dtype + " " + shape + " needs " + bytes
                    + " bytes, the segment has " + data.byteSize());
        }
        return bytes;
    }

    /** {@link Backend#view}: the same element count. */
    public static ViewSizes view(Tensor tensor, Shape shape) {
        String op = "view";
        requireTensor(op, "tensor", tensor);
        if (shape == null) {
            throw new IllegalArgumentException(op + ": the new shape of " + TensorChecks.describe(tensor) + " is null");
        }
        if (shape.numel() != tensor.shape().numel()) {
            throw new IllegalArgumentException(op + ": " + TensorChecks.describe(tensor) + " has " + tensor.shape().numel()
                    + " elements, cannot view it as " + shape + " (" + shape.numel() + " elements)");
        }
        if (tensor.dtype().isQuantized()) {
            Q8_0Format.requireBlocks(shape, op + ": " + TensorChecks.describe(tensor) + " as " + shape);
        }
        return new ViewSizes(0, shape);
    }

    /** {@link Backend#slice}: rows {@code [start, end)} of axis 0 with {@code 0 ≤ start ≤ end ≤ rows}. */
    public static ViewSizes slice(Tensor tensor, int start, int end) {
        String op = "slice";
        requireTensor(op, "tensor", tensor);
        Shape s = tensor.shape();
        if (s.rank() == 0) {
            throw new IllegalArgumentException(op + ": " + TensorChecks.describe(tensor) + " is a scalar, it has no rows");
        }
        if (start < 0 || end < start || end > s.dim(0)) {
            throw new IllegalArgumentException(op + ": rows [" + start + ", " + end + ") are out of range for "
                    + TensorChecks.describe(tensor) + " with " + s.dim(0) + " rows");
        }
        long rowElements = s.dim(0) == 0 ? 0 : s.numel() / s.dim(0);
        return new ViewSizes(start * rowElements, s.withDim0(end - start));
    }

    /**
     * {@link Backend#copy}: the same element count, and either both float dtypes or both I32 (floats are
     * converted among F32, BF16 and F16; I32 is never converted). Returns the element count.
     */
    public static long copy(Tensor src, Tensor dst) {
        String op = "copy";
        requireTensor(op, "src", src);
        requireTensor(op, "dst", dst);
        if (src.shape().numel() != dst.shape().numel()) {
            throw new IllegalArgumentException(op + ": src " + TensorChecks.describe(src) + " has " + src.shape().numel()
                    + " elements, dst " + TensorChecks.describe(dst) + " has " + dst.shape().numel());
        }
        if (src.dtype().isQuantized() || dst.dtype().isQuantized()) {
            throw new IllegalArgumentException(op + ": cannot copy src " + TensorChecks.describe(src) + " to dst "
                    + TensorChecks.describe(dst) + " (Q8_0 is a weight format of linear only)");
        }
        if (src.dtype().isFloating() != dst.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": cannot convert src " + TensorChecks.describe(src) + " to dst "
                    + TensorChecks.describe(dst) + " (I32 copies only to I32)");
        }
        return src.shape().numel();
    }

    /** {@link Backend#allocateKvCache}: a spec is required (its record validates the rest). */
    public static void allocateKvCache(KvCacheSpec spec) {
        if (spec == null) {
            throw new IllegalArgumentException("allocateKvCache: spec is null");
        }
    }

    // ---------------------------------------------------------------- operations

    /** {@link Backend#embedding}: table [V, E] of a float dtype, out [T, E] F32, every id in [0, V). */
    public static EmbeddingSizes embedding(Tensor table, int[] tokens, Tensor out) {
        String op = "embedding";
        requireFloat(op, "table", table);
        requireF32(op, "out", out);
        if (tokens == null) {
            throw new IllegalArgumentException(op + ": tokens are null");
        }
        if (table.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": table " + TensorChecks.describe(table) + " has rank "
                    + table.shape().rank() + ", expected [V, E]");
        }
        int v = table.shape().dim(0);
        int e = table.shape().dim(1);
        requireMatrix(op, "out", out, tokens.length, e, "(one row per token, the width of table '" + table.label() + "')");
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= v) {
                throw new IllegalArgumentException(op + ": token id " + tokens[i] + " at index " + i
                        + " is out of range [0, " + v + ") of table " + TensorChecks.describe(table));
            }
        }
        return new EmbeddingSizes(tokens.length, v, e);
    }

    /**
     * {@link Backend#linear}: x [T, in] F32, w [out, in] float or Q8_0 (in a multiple of 32), bias [out] float or
     * null, out [T, out] F32.
     */
    public static LinearSizes linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        String op = "linear";
        requireF32(op, "x", x);
        requireTensor(op, "w", w);
        if (!w.dtype().isFloating() && w.dtype() != DType.Q8_0) {
            throw new IllegalArgumentException(op + ": w " + TensorChecks.describe(w) + " is " + w.dtype()
                    + ", expected F32, BF16, F16 or Q8_0");
        }
        requireF32(op, "out", out);
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": w " + TensorChecks.describe(w) + " has rank " + w.shape().rank()
                    + ", expected [out, in]");
        }
        if (w.dtype().isQuantized()) {
            Q8_0Format.requireBlocks(w.shape(), op + ": w " + TensorChecks.describe(w));
        }
        int o = w.shape().dim(0);
        int in = w.shape().dim(1);
        int t = rowsOf(op, "x", x, in, "(in = " + in + " of w '" + w.label() + "' " + w.shape() + ")");
        requireMatrix(op, "out", out, t, o, "(the rows of x '" + x.label() + "', out = " + o + " of w '" + w.label() + "')");
        if (bias != null) {
            requireFloat(op, "bias", bias);
            if (bias.shape().numel() != o) {
                throw new IllegalArgumentException(op + ": bias " + TensorChecks.describe(bias) + " has "
                        + bias.shape().numel() + " elements, expected [" + o + "] (out of w '" + w.label() + "')");
            }
        }
        return new LinearSizes(t, in, o);
    }

    /**
     * {@link Backend#linears}: at least one weight; biases {@code null} or one per weight; one out per weight,
     * none of them {@code x} or another out; each projection passes {@link #linear}'s checks (its message is
     * prefixed with the projection's index). Returns the sizes of each projection (all with x's rows and in).
     */
    public static List<LinearSizes> linears(Tensor x, List<Tensor> weights, List<Tensor> biases,
                                                      List<Tensor> outs) {
        String op = "linears";
        if (weights == null || outs == null) {
            throw new IllegalArgumentException(op + ": " + (weights == null ? "weights" : "outs") + " is null");
        }
        if (weights.isEmpty()) {
            throw new IllegalArgumentException(op + ": no weights");
        }
        if (outs.size() != weights.size() || (biases != null && biases.size() != weights.size())) {
            throw new IllegalArgumentException(op + ": " + weights.size() + " weights, " + outs.size() + " outs and "
                    + (biases == null ? "no" : String.valueOf(biases.size())) + " biases; expected one out per weight and no"
                    + " biases or one (possibly null) per weight");
        }
        List<LinearSizes> sizes = new ArrayList<>(weights.size());
        for (int j = 0; j < weights.size(); j++) {
            Tensor out = outs.get(j);
            if (out != null && out == x) {
                throw new IllegalArgumentException(op + ": out " + j + " " + TensorChecks.describe(out) + " is the input x");
            }
            for (int i = 0; i < j; i++) {
                if (out != null && outs.get(i) == out) {
                    throw new IllegalArgumentException(op + ": outs " + i + " and " + j + " are the same tensor "
                            + TensorChecks.describe(out));
                }
            }
            try {
                sizes.add(linear(x, weights.get(j), biases == null ? null : biases.get(j), out));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(op + ": projection " + j + ": " + e.getMessage(), e);
            }
        }
        return List.copyOf(sizes);
    }

    /** {@link Backend#rmsNorm}: x F32 a whole number of groups of G = gain.numel() &gt; 0, out x's shape. */
    public static GroupSizes rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        String op = "rmsNorm";
        requireF32(op, "x", x);
        requireFloat(op, "gain", gain);
        requireF32(op, "out", out);
        requireEps(op, eps);
        long g = gain.shape().numel();
        if (g == 0 || x.shape().numel() % g != 0) {
            throw new IllegalArgumentException(op + ": x " + TensorChecks.describe(x) + " (" + x.shape().numel()
                    + " elements) is not a whole number of groups of " + g + " (the size of gain " + TensorChecks.describe(gain)
                    + ")");
        }
        requireSameShape(op, "x", x, "out", out);
        return new GroupSizes(Math.toIntExact(x.shape().numel() / g), (int) g);
    }

    /**
     * {@link Backend#layerNorm}: gain and bias of E elements (the last axis of x), bias optional ({@code null}
     * normalises without a shift, as {@code linear} without a bias), out x's shape.
     */
    public static RowSizes layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        requireF32(op, "x", x);
        requireFloat(op, "gain", gain);
        requireF32(op, "out", out);
        requireEps(op, eps);
        int e = x.shape().cols();
        requireVector(op, "gain", gain, e, x);
        if (bias != null) {
            requireFloat(op, "bias", bias);
            requireVector(op, "bias", bias, e, x);
        }
        requireSameShape(op, "x", x, "out", out);
        return new RowSizes(Math.toIntExact(x.shape().rows()), e);
    }

    /** {@link Backend#rope}: a spec, startPos ≥ 0, x [T, H·D] F32, out x's shape. */
    public static RopeSizes rope(Tensor x, int startPos, RopeSpec spec, Tensor out) {
        String op = "rope";
        requireF32(op, "x", x);
        requireF32(op, "out", out);
        if (spec == null) {
            throw new IllegalArgumentException(op + ": RoPE spec is null");
        }
        if (startPos < 0) {
            throw new IllegalArgumentException(op + ": startPos must be ≥ 0, got " + startPos);
        }
        int cols = x.shape().cols();
        if (cols % spec.headDim() != 0) {
            throw new IllegalArgumentException(op + ": x " + TensorChecks.describe(x) + " has " + cols
                    + " columns, expected [T, H·" + spec.headDim() + "] (a multiple of headDim " + spec.headDim() + ")");
        }
        requireSameShape(op, "x", x, "out", out);
        long end = (long) startPos + x.shape().rows();
        if (end > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": positions " + startPos + " .. " + (end - 1) + " exceed the int range");
        }
        return new RopeSizes(Math.toIntExact(x.shape().rows()), cols / spec.headDim(), spec.headDim());
    }

    /** {@link Backend#swiglu}: gate, up and out F32 of one shape; returns the element count. */
    public static long swiglu(Tensor gate, Tensor up, Tensor out) {
        return elementwise("swiglu", "gate", gate, "up", up, out);
    }

    /** {@link Backend#add}: a, b and out F32 of one shape; returns the element count. */
    public static long add(Tensor a, Tensor b, Tensor out) {
        return elementwise("add", "a", a, "b", b, out);
    }

    /** {@link Backend#gelu}: x and out F32 of one shape; returns the element count. */
    public static long gelu(Tensor x, Tensor out) {
        return elementwise("gelu", "x", x, null, null, out);
    }

    /** {@link Backend#softmax}: x and out F32 of one shape, rows of the last axis. */
    public static RowSizes softmax(Tensor x, Tensor out) {
        elementwise("softmax", "x", x, null, null, out);
        return new RowSizes(Math.toIntExact(x.shape().rows()), x.shape().cols());
    }

    /** {@link Backend#mgate}: u [T, F], gateLogits [T, Mg] with Mg &gt; 0 dividing F, out u's shape, all F32. */
    public static MgateSizes mgate(Tensor u, Tensor gateLogits, Tensor out) {
        String op = "mgate";
        requireF32(op, "u", u);
        requireF32(op, "gateLogits", gateLogits);
        requireF32(op, "out", out);
        int f = u.shape().cols();
        long rows = u.shape().rows();
        int groups = gateLogits.shape().cols();
        if (gateLogits.shape().rows() != rows || groups == 0 || f % groups != 0) {
            throw new IllegalArgumentException(op + ": gateLogits " + TensorChecks.describe(gateLogits) + " must be ["
                    + rows + ", Mg] with Mg > 0 dividing F = " + f + " of u " + TensorChecks.describe(u));
        }
        requireSameShape(op, "u", u, "out", out);
        return new MgateSizes(Math.toIntExact(rows), f, groups);
    }

    /**
     * {@link Backend#dynamicWeights}: params (validated by their record; each tensor of a float dtype), a [T, E]
     * F32, out [T, 4, 2I+1, N] F32.
     */
    public static DynamicWeightSizes dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out) {
        String op = "dynamicWeights";
        if (params == null) {
            throw new IllegalArgumentException(op + ": params are null");
        }
        requireF32(op, "a", a);
        requireF32(op, "out", out);
        requireFloat(op, "dw1", params.dw1());
        requireFloat(op, "qkw", params.qkw());
        requireFloat(op, "dd", params.dd());
        int e = params.dim();
        int n = params.numHeads();
        int rank = params.rank();
        int t = rowsOf(op, "a", a, e, "(E = " + e + " of dd '" + params.dd().label() + "' " + params.dd().shape() + ")");
        DynamicWeightSizes sizes = new DynamicWeightSizes(t, e, params.hidden(), n, rank);
        requireMatrix(op, "out", out, t, sizes.perToken(), "= [" + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
        return sizes;
    }

    /**
     * {@link Backend#dynamicWeightsFromProjection}: params as for {@link #dynamicWeights}, projected F32 [T, 4K + 4N]
     * (any T ≥ 0), out [T, 4, 2I+1, N].
     */
    public static DynamicWeightSizes dynamicWeightsFromProjection(Tensor projected, DynamicWeightParams params, Tensor out) {
        String op = "dynamicWeightsFromProjection";
        if (params == null) {
            throw new IllegalArgumentException(op + ": params are null");
        }
        requireF32(op, "projected", projected);
        requireF32(op, "out", out);
        requireFloat(op, "qkw", params.qkw());
        int k = params.hidden();
        int n = params.numHeads();
        int t = rowsOf(op, "projected", projected, 4 * k + 4 * n, "(4K + 4N = 4·" + k + " + 4·" + n + ", a · [dw1 | dd])");
        DynamicWeightSizes sizes = new DynamicWeightSizes(t, params.dim(), k, n, params.rank());
        requireMatrix(op, "out", out, t, sizes.perToken(), "= [" + t + ", 4, " + (2 * params.rank() + 1) + ", " + n + "]");
        return sizes;
    }

    /**
     * {@link Backend#attentionPrefill}: see {@link #attention(String, Tensor, Tensor, Tensor, Tensor, KvCache,
     * AttentionSpec, Tensor)}.
     */
    public static AttentionSizes attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache,
                                                  AttentionSpec spec, Tensor out) {
        return attention("attentionPrefill", q, k, v, dyn, cache, spec, out);
    }

    /** {@link Backend#attentionDecode}: as prefill, with exactly one query row. */
    public static AttentionSizes attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache,
                                                 AttentionSpec spec, Tensor out) {
        String op = "attentionDecode";
        requireTensor(op, "q", q);
        if (q.shape().rank() == 0 || q.shape().dim(0) != 1) {
            throw new IllegalArgumentException(op + ": q " + TensorChecks.describe(q) + " must be one row [1, N·D]: decode takes"
                    + " one token");
        }
        return attention(op, q, k, v, dyn, cache, spec, out);
    }

    /**
     * The rules of the fused attention ops, under operation name {@code op}: a spec and a cache; q, k, v and out
     * [T, N·D] F32; for DCMHA and query-wise modes dyn [T, 4, 2I+1, N] F32 (ignored, and may be null, for plain
     * MHA); a cache of N heads of D, with key-side factors of rank I for DCMHA; a global layer's cache must hold
     * every position up to the call's last, a local layer's ring at least {@link AttentionSpec#minRingCapacity()}
     * slots; static compose weights, when given and the mode composes, are [N, N] of a float dtype (plain MHA
     * ignores them: its compose is the identity).
     */
    public static AttentionSizes attention(String op, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache,
                                           AttentionSpec spec, Tensor out) {
        if (spec == null) {
            throw new IllegalArgumentException(op + ": attention spec is null");
        }
        if (cache == null) {
            throw new IllegalArgumentException(op + ": KV cache is null");
        }
        requireF32(op, "q", q);
        requireF32(op, "k", k);
        requireF32(op, "v", v);
        requireF32(op, "out", out);
        int n = spec.numHeads();
        int d = spec.headDim();
        int width = n * d;
        String heads = "(N·D = " + n + "·" + d + " of the attention spec)";
        int t = rowsOf(op, "q", q, width, heads);
        requireMatrix(op, "k", k, t, width, heads);
        requireMatrix(op, "v", v, t, width, heads);
        requireMatrix(op, "out", out, t, width, heads);
        AttentionMode mode = spec.mode();
        int rank = mode == AttentionMode.PLAIN_MHA ? 0 : spec.rank();
        if (mode.usesDynamicWeights()) {
            if (dyn == null) {
                throw new IllegalArgumentException(op + ": mode " + mode + " needs the dynamic weights, dyn is null");
            }
            requireF32(op, "dyn", dyn);
            requireMatrix(op, "dyn", dyn, t, spec.dynamicWeightsPerToken(),
                    "= [" + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
        }
        KvCacheSpec cs = cache.spec();
        if (cs.numHeads() != n || cs.headDim() != d) {
            throw new IllegalArgumentException(op + ": KV cache " + cs + " has " + cs.numHeads() + " heads of "
                    + cs.headDim() + ", the attention spec needs " + n + " heads of " + d);
        }
        if (mode.usesKeySide() && (!cs.keySide() || cs.rank() != rank)) {
            throw new IllegalArgumentException(op + ": DCMHA needs a KV cache with key-side factors of rank " + rank
                    + ", got " + cs);
        }
        int start = cache.length();
        int capacity = cs.capacity();
        if (spec.isLocal()) {
            if (capacity < spec.minRingCapacity()) {
                throw new IllegalArgumentException(op + ": local layer with window " + spec.window()
                        + " needs a KV cache of at least " + spec.minRingCapacity() + " slots, got capacity " + capacity);
            }
        } else if ((long) start + t > capacity) {
            throw new IllegalArgumentException(op + ": global layer KV cache capacity " + capacity + " is too small for "
                    + t + " new positions after " + start + " (needs " + ((long) start + t) + ")");
        }
        boolean statics = spec.staticPre() != null && mode != AttentionMode.PLAIN_MHA;
        if (statics) {
            requireStatic(op, "staticPre", spec.staticPre(), n);
            requireStatic(op, "staticPost", spec.staticPost(), n);
        }
        return new AttentionSizes(t, n, d, rank, start, capacity, spec.keysPerQuery(t > 1), statics);
    }

    // ---------------------------------------------------------------- building blocks

    /** Fails with "op: role is null" when {@code t} is null. */
    public static void requireTensor(String op, String role, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + role + " is null");
        }
    }

    /** A non-null F32 tensor. */
    public static void requireF32(String op, String role, Tensor t) {
        requireTensor(op, role, t);
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " is " + t.dtype()
                    + ", expected F32");
        }
    }

    /** A non-null tensor of a float dtype (F32, BF16 or F16). */
    public static void requireFloat(String op, String role, Tensor t) {
        requireTensor(op, role, t);
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " is " + t.dtype()
                    + ", expected F32, BF16 or F16");
        }
    }

    private static long bytes(String op, DType dtype, Shape shape, String label) {
        if (dtype == null) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' needs a dtype, got null");
        }
        if (shape == null) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' needs a shape, got null");
        }
        if (dtype.isQuantized()) {
            Q8_0Format.requireBlocks(shape, op + ": tensor '" + label + "' " + dtype + " " + shape);
        }
        try {
            return dtype.bytesFor(shape.numel());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' " + dtype + " " + shape
                    + " has more bytes than a long holds");
        }
    }

    /**
     * Fails unless {@code backend} {@link Backend#supportsWeights supports} tensors of {@code dtype}: a backend
     * calls it where tensors are made ({@code allocate}, {@code fromFloats}, {@code weights}).
     */
    public static void requireSupported(Backend backend, String op, DType dtype, String label) {
        if (dtype != null && !backend.supportsWeights(dtype) && dtype != DType.I32) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' is " + dtype + ", which the "
                    + backend.name() + " backend does not support");
        }
    }

    private static void requireValueCount(String op, String label, Shape shape, int count) {
        if (count != shape.numel()) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' " + shape + " needs " + shape.numel()
                    + " values, got " + count);
        }
    }

    private static void requireEps(String op, float eps) {
        if (!(eps >= 0) || Float.isInfinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and ≥ 0, got " + eps);
        }
    }

    private static long elementwise(String op, String firstRole, Tensor first, String secondRole, Tensor second,
                                    Tensor out) {
        requireF32(op, firstRole, first);
        if (second != null || secondRole != null) {
            requireF32(op, secondRole, second);
        }
        requireF32(op, "out", out);
        if (second != null) {
            requireSameShape(op, firstRole, first, secondRole, second);
        }
        requireSameShape(op, firstRole, first, "out", out);
        return first.shape().numel();
    }

    private static void requireSameShape(String op, String refRole, Tensor ref, String role, Tensor t) {
        if (!ref.shape().equals(t.shape())) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " has shape "
                    + t.shape() + ", expected " + ref.shape() + " (the shape of " + refRole + " '" + ref.label() + "')");
        }
    }

    private static void requireVector(String op, String role, Tensor t, int size, Tensor x) {
        if (t.shape().numel() != size) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " has "
                    + t.shape().numel() + " elements, expected " + size + " (the last axis of x " + TensorChecks.describe(x)
                    + ")");
        }
    }

    static void requireStatic(String op, String role, Tensor t, int n) {
        requireFloat(op, role, t);
        if (t.shape().numel() != (long) n * n) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " has "
                    + t.shape().numel() + " elements, expected [" + n + ", " + n + "] (N = " + n + " heads)");
        }
    }

    /** Requires a [rows, cols] activation: axis 0 is rows and the element count rows·cols. */
    private static void requireMatrix(String op, String role, Tensor t, int rows, int cols, String why) {
        Shape s = t.shape();
        if (s.rank() == 0 || s.dim(0) != rows || s.numel() != (long) rows * cols) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " has shape " + s
                    + ", expected [" + rows + ", " + cols + "] " + why);
        }
    }

    /** The rows T of a [T, cols] activation; fails when its shape is not one. */
    private static int rowsOf(String op, String role, Tensor t, int cols, String why) {
        Shape s = t.shape();
        boolean ok = s.rank() > 0 && (s.dim(0) == 0 ? s.numel() == 0 : s.numel() == (long) s.dim(0) * cols);
        if (!ok) {
            throw new IllegalArgumentException(op + ": " + role + " " + TensorChecks.describe(t) + " has shape " + s
                    + ", expected [T, " + cols + "] " + why);
        }
        return s.dim(0);
    }
}
