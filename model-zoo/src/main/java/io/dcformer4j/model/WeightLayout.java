package io.dcformer4j.model;

import io.dcformer4j.api.Shape;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The tensors a checkpoint must hold for a configuration, under the official state_dict names with the
 * fused {@code wqkv} form (spec §5.1, §5.2). Checkpoints may carry {@code wq}/{@code wk}/{@code wv} instead of
 * {@code wqkv}, and derived or cache entries besides these; {@link DCFormerModel} accepts both.
 */
public final class WeightLayout {
    private WeightLayout() {
    }

    /** Prefix of layer {@code i}'s tensors. */
    static String layer(int i) {
        return "layers." + i + ".";
    }

    /**
     * Every required tensor and its shape.
     *
     * @param rank   I, the compose rank ({@link ModelConfig#defaultComposeRank()} for reference checkpoints)
     * @param hidden K, the dynamic-weight MLP width ({@link ModelConfig#defaultComposeHidden()})
     */
    public static SortedMap<String, Shape> expected(ModelConfig c, int rank, int hidden) {
        int e = c.dim();
        int n = c.numHeads();
        int f = c.intermediateSize();
        boolean pythia = c.family() == ModelFamily.DCPYTHIA;
        SortedMap<String, Shape> m = new TreeMap<>();
        m.put("tok_embeddings.weight", Shape.of(c.vocabSize(), e));
        m.put("norm.weight", Shape.of(e));
        if (pythia) {
            m.put("norm.bias", Shape.of(e));
        }
        m.put("output.weight", Shape.of(c.vocabSize(), e));
        for (int i = 0; i < c.numLayers(); i++) {
            String p = layer(i);
            m.put(p + "attention_norm.weight", Shape.of(e));
            m.put(p + "ffn_norm.weight", Shape.of(e));
            if (pythia) {
                m.put(p + "attention_norm.bias", Shape.of(e));
                m.put(p + "ffn_norm.bias", Shape.of(e));
            }
            m.put(p + "attention.wqkv.weight", Shape.of(3 * e, e));
            m.put(p + "attention.wo.weight", Shape.of(e, e));
            if (c.linearBias()) {
                m.put(p + "attention.wqkv.bias", Shape.of(3 * e));
                m.put(p + "attention.wo.bias", Shape.of(e));
            }
            if (c.useQkNorm()) {
                m.put(p + "attention.q_norm.scale", Shape.of(c.headDim()));
                m.put(p + "attention.k_norm.scale", Shape.of(c.headDim()));
            }
            if (c.useDcmha()) {
                m.put(p + "attention.dyn_w_proj.dw1", Shape.of(e, 1, 4, hidden));
                m.put(p + "attention.dyn_w_proj.qkw", Shape.of(1, 4, hidden, 2 * rank, n));
                m.put(p + "attention.dyn_w_proj.dd", Shape.of(e, 1, 4 * n));
            }
            if (c.useSw()) {
                m.put(p + "attention.dyn_w_proj.pre_proj.w", Shape.of(1, n, n));
                m.put(p + "attention.dyn_w_proj.post_proj.w", Shape.of(1, n, n));
            }
            m.put(p + "feed_forward.w1.weight", Shape.of(f, e));
            m.put(p + "feed_forward.w2.weight", Shape.of(e, f));
            if (pythia) {
                if (c.linearBias()) {
                    m.put(p + "feed_forward.w1.bias", Shape.of(f));
                    m.put(p + "feed_forward.w2.bias", Shape.of(e));
                }
            } else {
                m.put(p + "feed_forward.w3.weight", Shape.of(f, e));
                if (c.mgate()) {
                    m.put(p + "feed_forward.mg.weight", Shape.of(c.mgateDim(), e));
                }
            }
        }
        return m;
    }
}
