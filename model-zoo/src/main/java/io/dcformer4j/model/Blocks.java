package io.dcformer4j.model;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Tensor;

import java.util.List;

/**
 * The parts of a layer that treat every row alike (norms, the q/k/v projections, the FFN, the residual
 * structure), shared by a session's own forward pass and the batched decode step, so the two run the same
 * operations on each row. Only attention, which needs the rows' caches and positions, differs.
 */
final class Blocks {
    static final float QK_NORM_EPS = 1e-6f;

    private Blocks() {
    }

    /** One layer on act.x: norm, {@code attention} (act.a → act.attnOut), FFN, residual adds. */
    static void layer(DCFormerModel model, int l, Activations act, Runnable attention) {
        Backend backend = model.backend();
        ModelConfig config = model.config();
        LayerWeights w = model.layer(l);
        norm(model, act.x, w.attentionNorm(), act.a);
        attention.run();
        if (config.parallelResidual()) {
            norm(model, act.x, w.ffnNorm(), act.f);
            feedForward(backend, w, act);
            backend.add(act.x, act.attnOut, act.x);
            backend.add(act.x, act.ffnOut, act.x);
        } else {
            backend.add(act.x, act.attnOut, act.x);
            norm(model, act.x, w.ffnNorm(), act.f);
            feedForward(backend, w, act);
            backend.add(act.x, act.ffnOut, act.x);
        }
    }

    /** q, k, v projections of act.a, with qk-norm when the model has it (into act.qn/act.kn), and dyn. */
    static void projections(DCFormerModel model, LayerWeights lw, Activations act) {
        Backend backend = model.backend();
        LayerWeights.Attention w = lw.attention();
        // for DCMHA, dw_mᵀ streams in the same pass as q, k and v: a decode step's dynamic weights then cost no
        // call of their own for their projection, only the small rest (GELU, qkw, norms, tanh)
        linears(backend, act.a, lw.attentionPass(), act.attentionPassOuts);
        if (lw.compose().dynamic() != null) {
            backend.dynamicWeightsFromProjection(act.dynProjected, lw.compose().dynamic(), act.dyn);
        }
        if (w.hasQkNorm()) {
            backend.rmsNorm(act.q0, w.qNorm(), QK_NORM_EPS, act.qn);
            backend.rmsNorm(act.k0, w.kNorm(), QK_NORM_EPS, act.kn);
        }
    }

    /** The FFN (spec §1.5) from act.f into act.ffnOut. */
    static void feedForward(Backend backend, LayerWeights lw, Activations act) {
        LayerWeights.FeedForward w = lw.feedForward();
        if (!w.isSwiGlu()) {
            linear(backend, act.f, w.w1(), act.gate);
            backend.gelu(act.gate, act.u);
        } else {
            // gate, up (and the mgate logits) read the same input: one pass over their weights
            linears(backend, act.f, lw.ffnPass(), act.ffnPassOuts);
            backend.swiglu(act.gate, act.up, act.u);
            if (w.mg() != null) {
                backend.mgate(act.u, act.mgLogits, act.gated);
            }
        }
        linear(backend, act.gated, w.w2(), act.ffnOut);
    }

    /** {@code outs[j] = x · weights[j]ᵀ + biases[j]} for a pass, one call for all its projections. */
    static void linears(Backend backend, Tensor x, LayerWeights.Pass pass, List<Tensor> outs) {
        backend.linears(x, pass.weights(), pass.biases(), outs);
    }

    /** {@code out = x · pᵀ + bias}. */
    static void linear(Backend backend, Tensor x, LayerWeights.Projection p, Tensor out) {
        backend.linear(x, p.weight(), p.bias(), out);
    }

    /** The family's block norm: LayerNorm for DCPythia, RMSNorm for DCFormer++. */
    static void norm(DCFormerModel model, Tensor x, LayerWeights.Norm norm, Tensor out) {
        float eps = (float) model.config().normEps();
        if (model.config().family() == ModelFamily.DCPYTHIA) {
            model.backend().layerNorm(x, norm.gain(), norm.bias(), eps, out);
        } else {
            model.backend().rmsNorm(x, norm.gain(), eps, out);
        }
    }
}
