package io.dcformer4j.api;

import java.lang.foreign.MemorySegment;

/**
 * A compute backend: tensor allocation and the operations the DCFormer model needs, named after what the
 * model does. Operations write into caller-allocated outputs (destination passing), so a decode step need
 * not allocate. Unless an operation says otherwise, inputs are F32 activations, arithmetic is F32, and an
 * output may be the same tensor as an element-wise operation's input.
 *
 * <p>Every operation validates its arguments by the rules of {@link OpChecks}, the same for every backend (an
 * implementation calls the method of {@code OpChecks} named after the operation, which also resolves the
 * sizes): a bad argument throws {@link IllegalArgumentException} whose message starts with the operation and
 * names the argument (its role and {@link Tensor#label()}), its shape and the expected shape. A missing
 * required argument is an {@link IllegalArgumentException} as well, never a {@link NullPointerException}.
 * Passing a tensor or cache of another backend, or a closed one, throws {@link IllegalStateException}; so does
 * using a closed backend. The conformance kit pins these rules and the content of the messages.
 *
 * <p>Thread safety: operations may be called from several threads at once as long as their outputs are
 * distinct tensors (several sessions on one model). {@link #close()} must not race with operations.
 */
public interface Backend extends AutoCloseable {

    /** The provider name this backend was opened under (for example {@code "cpu"}). */
    String name();

    /** A one-line human description (device, SIMD width, worker threads). */
    String description();

    /** The options this backend was opened with. */
    BackendOptions options();

    // ---------------------------------------------------------------- storage

    /** A new zero-filled tensor; dtype and shape are required. */
    Tensor allocate(DType dtype, Shape shape, String label);

    /**
     * A new tensor holding {@code values} rounded to {@code dtype} (F32, BF16 or F16; or quantized by
     * {@link Q8_0Format#quantize} for {@link DType#Q8_0}); {@code values} must hold exactly
     * {@code shape.numel()} elements.
     */
    Tensor fromFloats(DType dtype, Shape shape, float[] values, String label);

    /** A new I32 tensor of exactly {@code shape.numel()} values. */
    Tensor fromInts(Shape shape, int[] values, String label);

    /**
     * A weight tensor over raw little-endian bytes of {@code dtype} (F32, BF16, F16, or {@link DType#Q8_0}
     * blocks where {@link #supportsWeights} says so): the segment holds exactly
     * {@code dtype.bytesFor(shape.numel())} bytes, neither fewer nor more (a longer segment means the caller's
     * shape or dtype is wrong; slice it first if the extra bytes are intended). A host backend may keep a reference to {@code data} instead of copying (memory-mapped
     * checkpoints are never copied to the heap); the caller keeps {@code data} alive while the tensor lives.
     * A device backend uploads it. The segment must be readable from any thread (a global, automatic or
     * shared arena, or a file mapping), since backends read weights from their worker threads.
     */
    Tensor weights(DType dtype, Shape shape, MemorySegment data, String label);

    /** A view with another shape of the same number of elements, sharing storage. */
    Tensor view(Tensor tensor, Shape shape);

    /** A view of rows {@code [start, end)} along axis 0, sharing storage. */
    Tensor slice(Tensor tensor, int start, int end);

    /**
     * Copies {@code src} into {@code dst} (same number of elements; converted among F32, BF16 and F16; I32 copies
     * only to I32).
     */
    void copy(Tensor src, Tensor dst);

    // ---------------------------------------------------------------- operations

    /** {@code out[t, :] = table[tokens[t], :]}; table [V, E] of any float dtype, out [T, E] F32. Ids out of range fail. */
    void embedding(Tensor table, int[] tokens, Tensor out);

    /**
     * {@code out = x · wᵀ + bias}: x [T, in] F32, w [out, in] F32/BF16/F16 or Q8_0 (in a multiple of 32, on a
     * backend that {@link #supportsWeights supports} it), bias [out] or {@code null}, out [T, out] F32.
     * Accumulation is F32 (or wider); Q8_0 weights are used as their exact values d · q.
     */
    void linear(Tensor x, Tensor w, Tensor bias, Tensor out);

    /**
     * Several projections of one input, such as a layer's q, k and v or an FFN's gate and up:
     * {@code outs[j] = x · weights[j]ᵀ + biases[j]} for every j, each exactly the floats {@link #linear} writes
     * for that weight alone. A decode step's projections are short weight streams, so backends override this
     * to run them as one pass (one hand-off to their workers for all of them); the default calls {@code linear}
     * for each weight in order.
     *
     * @param biases {@code null} for no biases, or one entry per weight, each {@code null} or a bias as
     *               {@code linear}'s
     * @throws IllegalArgumentException when there are no weights, the lists differ in length, an output is
     *                                  {@code x} or appears twice, or a projection fails {@code linear}'s checks
     */
    default void linears(Tensor x, java.util.List<Tensor> weights, java.util.List<Tensor> biases, java.util.List<Tensor> outs) {
        OpChecks.linears(x, weights, biases, outs);
        for (int j = 0; j < weights.size(); j++) {
            linear(x, weights.get(j), biases == null ? null : biases.get(j), outs.get(j));
        }
    }

    /**
     * RMS normalisation of every contiguous group of G = {@code gain.numel()} elements of x:
     * {@code out = gain ⊙ x / sqrt(mean(x²) + eps)}. With G = E this is the block norm; with G = D over
     * [T, N·D] it is qk-norm (one gain shared by all heads).
     */
    void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out);

    /**
     * LayerNorm over the last axis: {@code out = gain ⊙ (x − μ)/sqrt(σ² + eps) + bias}, σ² the population
     * variance. {@code bias} is optional: {@code null} means no shift (as {@link #linear} without a bias).
     */
    void layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out);

    /**
     * Rotary embedding (spec §1.4) of x [T, H·D] where row t is at absolute position {@code startPos + t}:
     * within each head, component j &lt; Dr/2 is paired with j + Dr/2; components ≥ Dr pass through.
     */
    void rope(Tensor x, int startPos, RopeSpec spec, Tensor out);

    /** {@code out = silu(gate) ⊙ up}, silu(z) = z·σ(z). */
    void swiglu(Tensor gate, Tensor up, Tensor out);

    /**
     * The mgate FFN gating: {@code g = softmax(gateLogits[t, :])} over Mg groups, then
     * {@code out[t, e·P + j] = g[e] · u[t, e·P + j]} with P = F / Mg. u [T, F], gateLogits [T, Mg].
     */
    void mgate(Tensor u, Tensor gateLogits, Tensor out);

    /** Exact GELU, {@code z · ½(1 + erf(z/√2))}. */
    void gelu(Tensor x, Tensor out);

    /** {@code out = a + b} (same shapes). */
    void add(Tensor a, Tensor b, Tensor out);

    /** Max-subtracted softmax over the last axis. */
    void softmax(Tensor x, Tensor out);

    /**
     * The DCMHA dynamic weights of every token (spec §2.2) from the normalised layer input a [T, E], into
     * out [T, 4, 2I+1, N]: for slot c, rows 0..I−1 are w1 (RMS-normalised over heads, eps 1e-6), rows
     * I..2I−1 are w2, row 2I is dg = tanh(a · dd). GELU is exact.
     */
    void dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out);

    /**
     * {@link #dynamicWeights} from the tokens' merged projection, computed by the caller: {@code projected}
     * [T, 4K + 4N] holds {@code a · dw_m} (spec §2.2's merged form: dw1 as [E, 4K] then dd as [E, 4N], columns
     * c·K + k then 4K + c·N + n) before GELU and tanh. A model that runs dw_mᵀ as one more weight of its q, k, v
     * {@link #linears} pass finishes the dynamic weights with this, so a decode step streams dw1 and dd with
     * the projections instead of in a call of their own. The result is {@code dynamicWeights(a)}'s up to the
     * projection's summation order; {@code params} supplies qkw, N and I (dw1 and dd only size the check).
     *
     * <p>The default computes on the host (GELU through this backend's {@link #gelu}, the rest in Java, with
     * {@code toFloatArray} and {@code copyFrom} in between); backends override it.
     *
     * @throws IllegalArgumentException when projected is not [T, 4K + 4N] or out not [T, 4, 2I+1, N]
     */
    default void dynamicWeightsFromProjection(Tensor projected, DynamicWeightParams params, Tensor out) {
        OpChecks.DynamicWeightSizes s = OpChecks.dynamicWeightsFromProjection(projected, params, out);
        if (s.rows() == 0) {
            return;
        }
        float[] p = projected.toFloatArray();
        Shape hidden = Shape.of(s.rows(), 4 * s.hidden()); // [T, 4K]
        try (Tensor z = fromFloats(DType.F32, hidden, DynamicWeightsOnHost.geluInputs(p, s), "dw1 projection");
             Tensor u = allocate(DType.F32, hidden, "GELU of the dw1 projection")) {
            gelu(z, u);
            out.copyFrom(DynamicWeightsOnHost.finish(u.toFloatArray(), p, params.qkw().toFloatArray(), s));
        }
    }

    /**
     * Whether tensors of {@code dtype} can be made on this backend. Every backend supports F32, BF16, F16 and
     * I32; {@link DType#Q8_0} (weights of {@link #linear} only) is optional, and a backend without it refuses
     * such tensors with an {@link IllegalArgumentException} naming the dtype. The default supports the
     * element types only.
     */
    default boolean supportsWeights(DType dtype) {
        return !dtype.isQuantized();
    }

    /** A new, empty attention cache. */
    KvCache allocateKvCache(KvCacheSpec spec);

    /**
     * Fused attention for T ≥ 1 new tokens at positions {@code cache.length() .. cache.length()+T−1}
     * (spec §2.1 steps 5–10, §4.3): q, k, v [T, N·D] after qk-norm and RoPE, dyn [T, 4, 2I+1, N]
     * ({@code null} for plain MHA), out [T, N·D]. Each query attends to the visible keys among those cached
     * and the T new ones; logits are scaled by 1/sqrt(D), pre-composed, masked, softmaxed, post-composed and
     * multiplied by V, without materialising more than the backend needs. Afterwards the new keys, values
     * and key-side factors are in the cache (local layers keep the last {@code capacity} positions). A query
     * sees {@link AttentionSpec#keysPerQuery} keys of a local layer. Static compose weights in the spec are
     * ignored in plain-MHA mode, whose compose is the identity.
     *
     * @throws IllegalArgumentException when a global layer's cache is too small for the new positions, or
     *                                  a local layer's ring is smaller than {@link AttentionSpec#minRingCapacity()}
     */
    void attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out);

    /**
     * Fused one-token decode (spec §4.4): as {@link #attentionPrefill} with T = 1. Backends specialise it
     * (one query row, all heads, split over keys).
     */
    void attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out);

    // ---------------------------------------------------------------- batched decode

    /**
     * RoPE with one position per row: x and out [T, H·D] as for {@link #rope}, row t at absolute position
     * {@code positions[t]} ({@code positions.length == T}). Used for a batch of sequences' decode rows, each at
     * its own position. The default rotates row by row through {@link #rope} on row slices; backends override
     * it to run the rows in one call. Row t's result must equal {@code rope} of that row alone.
     *
     * @throws IllegalArgumentException when the positions do not match the rows or one is negative
     */
    default void ropeRows(Tensor x, int[] positions, RopeSpec spec, Tensor out) {
        int rows = BatchChecks.ropeRows(x, positions, spec, out);
        for (int t = 0; t < rows; t++) {
            rope(slice(x, t, t + 1), positions[t], spec, slice(out, t, t + 1));
        }
    }

    /**
     * One decode step for B sequences at once (spec §4.4 per row): q, k, v, out [B, N·D] and dyn
     * [B, 4, 2I+1, N] ({@code null} for plain MHA) hold B rows, row b laid out as {@link #attentionDecode}'s
     * single row; row b attends over {@code caches.get(b)} (its own length, so the rows may sit at different
     * positions and windows) and then appends its key, value and key-side factors there, exactly as
     * {@code attentionDecode} would. Row b's output must be the same floats as {@code attentionDecode} of
     * that row alone, so that a sequence's output does not depend on what it is batched with.
     *
     * <p>The default loops over the rows with row slices; backends override it to run the batch in one call.
     *
     * @throws IllegalArgumentException when the caches are not one per row, a cache appears twice, or a row
     *                                  fails {@code attentionDecode}'s checks
     */
    default void attentionDecodeBatch(Tensor q, Tensor k, Tensor v, Tensor dyn, java.util.List<KvCache> caches,
                                      AttentionSpec spec, Tensor out) {
        int b = BatchChecks.attentionDecodeBatch(q, k, v, dyn, caches, spec, out);
        for (int r = 0; r < b; r++) {
            attentionDecode(slice(q, r, r + 1), slice(k, r, r + 1), slice(v, r, r + 1),
                    dyn == null ? null : slice(dyn, r, r + 1), caches.get(r), spec, slice(out, r, r + 1));
        }
    }

    // ---------------------------------------------------------------- bookkeeping

    /** Tensors and caches allocated by this backend and not yet closed (views excluded). */
    long liveTensors();

    /** Bytes held by live tensors and caches that this backend allocated (memory it does not own excluded). */
    long liveBytes();

    /**
     * Releases the backend's resources (worker threads, device context). Tensors must be closed first;
     * using the backend afterwards throws {@link IllegalStateException}, closing it again has no effect.
     */
    @Override
    void close();
}
