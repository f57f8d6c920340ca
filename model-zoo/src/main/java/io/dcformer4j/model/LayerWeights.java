package io.dcformer4j.model;

import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One layer's bound weights, in the groups the layer uses them: the two block norms, the attention
 * projections, the DCMHA compose parameters and the feed-forward network. Each group is bound by
 * checkpoint name in {@link LayerBinding}. Projection matrices are the checkpoint's own storage (row slices of
 * {@code wqkv} for q, k and v); small vectors are F32 copies.
 *
 * @param attentionNorm {@code attention_norm} before attention
 * @param attention     q, k, v, o and the optional qk-norm
 * @param compose       the DCMHA parameters ({@link Compose#NONE} for plain MHA)
 * @param ffnNorm       {@code ffn_norm} before the feed-forward network
 * @param feedForward   the FFN
 * @param attentionPass q, k and v, and dw_mᵀ for DCMHA: the projections of the normalised attention input
 * @param ffnPass       SwiGLU's gate and up (and mgate's logits): the projections of the FFN input; null for the GELU MLP
 */
record LayerWeights(Norm attentionNorm, Attention attention, Compose compose, Norm ffnNorm, FeedForward feedForward,
                    Pass attentionPass, Pass ffnPass) {

    /** The layer's weights with its two passes built from them. */
    static LayerWeights of(Norm attentionNorm, Attention attention, Compose compose, Norm ffnNorm, FeedForward feedForward) {
        Pass attentionPass = compose.merged() == null ? Pass.of(attention.q(), attention.k(), attention.v())
                : Pass.of(attention.q(), attention.k(), attention.v(), new Projection(compose.merged(), null));
        Pass ffnPass = null;
        if (feedForward.isSwiGlu()) {
            Projection up = new Projection(feedForward.w3(), null);
            ffnPass = feedForward.mg() == null ? Pass.of(feedForward.w1(), up)
                    : Pass.of(feedForward.w1(), up, new Projection(feedForward.mg(), null));
        }
        return new LayerWeights(attentionNorm, attention, compose, ffnNorm, feedForward, attentionPass, ffnPass);
    }

    /**
     * The weights and biases of one {@code Backend.linears} call (several projections of one input), built once at
     * load so that every decode step passes the same lists.
     *
     * @param weights the projections' weights
     * @param biases  one per weight (each possibly null), or null when none has a bias
     */
    record Pass(List<Tensor> weights, List<Tensor> biases) {
        static Pass of(Projection... projections) {
            List<Tensor> weights = Arrays.stream(projections).map(Projection::weight).toList();
            List<Tensor> biases = Arrays.stream(projections).map(Projection::bias).toList(); // nulls kept
            return new Pass(weights, biases.stream().allMatch(Objects::isNull) ? null : biases);
        }
    }

    /** A block norm: RMSNorm {@code gain} alone, or LayerNorm (DCPythia) with a {@code bias}. */
    record Norm(Tensor gain, Tensor bias) {
    }

    /** A linear layer {@code y = x · weightᵀ + bias}; {@code bias} is null outside DCPythia's {@code linear_bias}. */
    record Projection(Tensor weight, Tensor bias) {
    }

    /**
     * The attention projections (spec §1.3).
     *
     * @param q     {@code wq} (rows 0..E−1 of {@code wqkv})
     * @param k     {@code wk} (rows E..2E−1)
     * @param v     {@code wv} (rows 2E..3E−1)
     * @param o     {@code wo}, the output projection
     * @param qNorm {@code q_norm.scale} [D], or null without qk-norm
     * @param kNorm {@code k_norm.scale} [D], or null without qk-norm
     */
    record Attention(Projection q, Projection k, Projection v, Projection o, Tensor qNorm, Tensor kNorm) {
        /** Whether q and k are RMS-normalised per head before RoPE. */
        boolean hasQkNorm() {
            return qNorm != null;
        }
    }

    /**
     * The DCMHA composition parameters (spec §2.2, §2.4).
     *
     * @param dynamic    {@code dyn_w_proj} (dw1, qkw, dd), or null for plain MHA
     * @param merged     dw_mᵀ [4K + 4N, E] (spec §2.2's merged dw1 and dd, output-major), made at load so that the
     *                   dynamic weights' projection runs as one more weight of the q/k/v pass; null for plain MHA
     * @param staticPre  {@code pre_proj.w} [N, N], or null without {@code use_sw}
     * @param staticPost {@code post_proj.w} [N, N], or null without {@code use_sw}
     */
    record Compose(DynamicWeightParams dynamic, Tensor merged, Tensor staticPre, Tensor staticPost) {
        /** Plain MHA: nothing to compose. */
        static final Compose NONE = new Compose(null, null, null, null);
    }

    /**
     * The feed-forward network (spec §1.5).
     *
     * @param w1 the first projection: GELU's input (DCPythia) or SwiGLU's gate (DCFormer++)
     * @param w2 the down projection back to E
     * @param w3 SwiGLU's up projection, or null for the GELU MLP
     * @param mg the mgate logits projection [Mg, E], or null without mgate
     */
    record FeedForward(Projection w1, Projection w2, Tensor w3, Tensor mg) {
        /** Whether this is DCFormer++'s SwiGLU (otherwise DCPythia's GELU MLP). */
        boolean isSwiGlu() {
            return w3 != null;
        }
    }
}
