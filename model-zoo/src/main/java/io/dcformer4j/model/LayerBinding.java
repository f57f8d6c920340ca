package io.dcformer4j.model;

import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;

/**
 * Binds one layer's weights group by group, each tensor next to its checkpoint name (the names of
 * {@link WeightLayout}), so that a group is filled by name rather than by position in a long argument list.
 */
final class LayerBinding {
    private final ModelConfig config;
    private final WeightBinder binder;
    private final String prefix;
    private final int e;

    private LayerBinding(ModelConfig config, WeightBinder binder, int layer) {
        this.config = config;
        this.binder = binder;
        this.prefix = WeightLayout.layer(layer);
        this.e = config.dim();
    }

    /**
     * Layer {@code layer}'s weights.
     *
     * @param rank   I, the compose rank (0 without DCMHA)
     * @param hidden K, the dynamic-weight MLP width (0 without DCMHA)
     */
    static LayerWeights bind(int layer, ModelConfig config, WeightBinder binder, int rank, int hidden) {
        LayerBinding b = new LayerBinding(config, binder, layer);
        return LayerWeights.of(b.norm("attention_norm."), b.attention(), b.compose(rank, hidden), b.norm("ffn_norm."),
                b.feedForward());
    }

    private boolean pythia() {
        return config.family() == ModelFamily.DCPYTHIA;
    }

    /** {@code <name>weight}, and {@code <name>bias} for DCPythia's LayerNorm. */
    private LayerWeights.Norm norm(String name) {
        return new LayerWeights.Norm(binder.vector(prefix + name + "weight", Shape.of(e)),
                pythia() ? binder.vector(prefix + name + "bias", Shape.of(e)) : null);
    }

    /** q, k and v from the fused {@code wqkv} (or the split {@code wq}/{@code wk}/{@code wv}), o, qk-norm. */
    private LayerWeights.Attention attention() {
        String fused = prefix + "attention.wqkv.";
        String split = prefix + "attention.w";
        Tensor[] w = new Tensor[3];   // q, k, v: [E, E] each
        if (binder.has(fused + "weight") || !binder.has(split + "q.weight")) {
            Tensor qkv = binder.projection(fused + "weight", Shape.of(3 * e, e));
            for (int j = 0; j < 3; j++) {
                w[j] = binder.slice(qkv, j * e, (j + 1) * e);
            }
        } else {
            w[0] = binder.projection(split + "q.weight", Shape.of(e, e));
            w[1] = binder.projection(split + "k.weight", Shape.of(e, e));
            w[2] = binder.projection(split + "v.weight", Shape.of(e, e));
        }
        Tensor[] bias = new Tensor[3];   // q, k, v: [E] each, or none
        if (config.linearBias()) {
            if (binder.has(fused + "bias") || !binder.has(split + "q.bias")) {
                Tensor qkv = binder.vector(fused + "bias", Shape.of(3 * e));
                for (int j = 0; j < 3; j++) {
                    bias[j] = binder.slice(qkv, j * e, (j + 1) * e);
                }
            } else {
                bias[0] = binder.vector(split + "q.bias", Shape.of(e));
                bias[1] = binder.vector(split + "k.bias", Shape.of(e));
                bias[2] = binder.vector(split + "v.bias", Shape.of(e));
            }
        }
        LayerWeights.Projection q = new LayerWeights.Projection(w[0], bias[0]);
        LayerWeights.Projection k = new LayerWeights.Projection(w[1], bias[1]);
        LayerWeights.Projection v = new LayerWeights.Projection(w[2], bias[2]);
        LayerWeights.Projection o = new LayerWeights.Projection(binder.projection(prefix + "attention.wo.weight", Shape.of(e, e)),
                config.linearBias() ? binder.vector(prefix + "attention.wo.bias", Shape.of(e)) : null);
        Tensor qNorm = null;
        Tensor kNorm = null;
        if (config.useQkNorm()) {
            qNorm = binder.vector(prefix + "attention.q_norm.scale", Shape.of(config.headDim()));
            kNorm = binder.vector(prefix + "attention.k_norm.scale", Shape.of(config.headDim()));
        }
        return new LayerWeights.Attention(q, k, v, o, qNorm, kNorm);
    }

    /** {@code dyn_w_proj}: dw1, qkw, dd and, with {@code use_sw}, the static pre/post weights. */
    private LayerWeights.Compose compose(int rank, int hidden) {
        if (!config.useDcmha()) {
            return LayerWeights.Compose.NONE;
        }
        String d = prefix + "attention.dyn_w_proj.";
        int n = config.numHeads();
        DynamicWeightParams dynamic = new DynamicWeightParams(
                binder.matrix(d + "dw1", Shape.of(e, 1, 4, hidden)),
                binder.matrix(d + "qkw", Shape.of(1, 4, hidden, 2 * rank, n)),
                binder.matrix(d + "dd", Shape.of(e, 1, 4 * n)),
                n, rank);
        Tensor merged = binder.mergedProjection(dynamic.dw1(), dynamic.dd(), d + "dw_m");
        if (!config.useSw()) {
            return new LayerWeights.Compose(dynamic, merged, null, null);
        }
        return new LayerWeights.Compose(dynamic, merged, binder.vector(d + "pre_proj.w", Shape.of(n, n)),
                binder.vector(d + "post_proj.w", Shape.of(n, n)));
    }

    /** {@code feed_forward}: w1 and w2 (with biases for DCPythia's linear_bias), w3 and mg for DCFormer++. */
    private LayerWeights.FeedForward feedForward() {
        String ff = prefix + "feed_forward.";
        int f = config.intermediateSize();
        boolean bias = pythia() && config.linearBias();
        LayerWeights.Projection w1 = new LayerWeights.Projection(binder.projection(ff + "w1.weight", Shape.of(f, e)),
                bias ? binder.vector(ff + "w1.bias", Shape.of(f)) : null);
        LayerWeights.Projection w2 = new LayerWeights.Projection(binder.projection(ff + "w2.weight", Shape.of(e, f)),
                bias ? binder.vector(ff + "w2.bias", Shape.of(e)) : null);
        if (pythia()) {
            return new LayerWeights.FeedForward(w1, w2, null, null);
        }
        Tensor w3 = binder.projection(ff + "w3.weight", Shape.of(f, e));
        Tensor mg = config.mgate() ? binder.matrix(ff + "mg.weight", Shape.of(config.mgateDim(), e)) : null;
        return new LayerWeights.FeedForward(w1, w2, w3, mg);
    }
}
