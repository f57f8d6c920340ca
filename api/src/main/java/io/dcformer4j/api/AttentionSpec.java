package io.dcformer4j.api;

/**
 * What one layer's fused attention computes (spec §2.1, §1.6).
 *
 * @param mode                    DCMHA, query-wise-only, or plain MHA
 * @param numHeads                N (query heads = key/value heads)
 * @param headDim                 D; logits are scaled by 1/sqrt(D) before pre-compose
 * @param rank                    I, the rank of each dynamic low-rank projection (2 in every released model)
 * @param window                  W for a local layer (a query at t sees keys t−W+1..t), or 0 for a global
 *                                (causal) layer
 * @param windowPlusOneInPrefill  the R24 reference quirk: local layers see W+1 keys (t−W..t) in calls
 *                                with more than one query; off by default
 * @param staticPre               optional static composition weight S [N, N] of pre-compose (the identity
 *                                becomes Id + S); {@code null} when {@code use_sw} is off
 * @param staticPost              the same for post-compose; {@code null} when off
 */
public record AttentionSpec(AttentionMode mode, int numHeads, int headDim, int rank, int window,
                            boolean windowPlusOneInPrefill, Tensor staticPre, Tensor staticPost) {
    /** Validates the fields. */
    public AttentionSpec {
        if (mode == null) {
            throw new IllegalArgumentException("attention mode is null");
        }
        if (numHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("numHeads and headDim must be positive, got " + numHeads + ", " + headDim);
        }
        if (mode != AttentionMode.PLAIN_MHA && rank <= 0) {
            throw new IllegalArgumentException("compose rank must be positive, got " + rank);
        }
        if (window < 0) {
            throw new IllegalArgumentException("window must be 0 (global) or positive, got " + window);
        }
        if ((staticPre == null) != (staticPost == null)) {
            throw new IllegalArgumentException("static composition weights must be given for both pre and post or neither");
        }
    }

    /** A spec without static weights and without the R24 quirk. */
    public static AttentionSpec of(AttentionMode mode, int numHeads, int headDim, int rank, int window) {
        return new AttentionSpec(mode, numHeads, headDim, rank, window, false, null, null);
    }

    /** Whether this is a local (sliding-window) layer. */
    public boolean isLocal() {
        return window > 0;
    }

    /** Floats per token in the dynamic-weight tensor: 4 slots × (2I + 1) × N. */
    public int dynamicWeightsPerToken() {
        return 4 * (2 * rank + 1) * numHeads;
    }

    /**
     * The keys a query of this layer sees in one call: W for a local layer, W + 1 in calls with more than one
     * query when the R24 quirk is on; 0 for a global layer (no window: every earlier key). Every backend, the
     * model and the CUDA kernels' {@code window} argument take the window from here.
     *
     * @param multiTokenCall whether the call has more than one query
     */
    public int keysPerQuery(boolean multiTokenCall) {
        if (window == 0) {
            return 0;
        }
        return window + (multiTokenCall && windowPlusOneInPrefill ? 1 : 0);
    }

    /**
     * The smallest ring a local layer's KV cache may have: the most keys any call can see,
     * {@code keysPerQuery(true)}; 0 for a global layer (whose cache must instead hold every position).
     */
    public int minRingCapacity() {
        return keysPerQuery(true);
    }

    /**
     * The first key position visible to a query at {@code t} (inclusive), under this layer's rule:
     * {@code max(0, t − keysPerQuery + 1)}, or 0 for a global layer.
     *
     * @param prefill whether the call has more than one query (only matters for the R24 quirk)
     */
    public int firstVisibleKey(int t, boolean prefill) {
        int keys = keysPerQuery(prefill);
        return keys == 0 ? 0 : Math.max(0, t - keys + 1);
    }
}
