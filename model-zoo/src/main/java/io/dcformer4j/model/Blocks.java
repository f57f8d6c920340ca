package io.dcformer4j.model;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Tensor;

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
        norm(model, act.x, w.attnNorm(), w.attnNormBias(), act.a);
        attention.run();
        if (config.parallelResidual()) {
            norm(model, act.x, w.ffnNorm(), w.ffnNormBias(), act.f);
            feedForward(backend, w, act);
            backend.add(act.x, act.attnOut, act.x);
            backend.add(act.x, act.ffnOut, act.x);
        } else {
            backend.add(act.x, act.attnOut, act.x);
            norm(model, act.x, w.ffnNorm(), w.ffnNormBias(), act.f);
            feedForward(backend, w, act);
            backend.add(act.x, act.ffnOut, act.x);
        }
    }

    /** q, k, v projections of act.a, with qk-norm when the model has it (into act.qn/act.kn), and dyn. */
    static void projections(DCFormerModel model, LayerWeights w, Activations act) {
        Backend backend = model.backend();
        backend.linear(act.a, w.wq(), w.bq(), act.q0);
        backend.linear(act.a, w.wk(), w.bk(), act.k0);
        backend.linear(act.a, w.wv(), w.bv(), act.v);
        if (w.qNorm() != null) {
            backend.rmsNorm(act.q0, w.qNorm(), QK_NORM_EPS, act.qn);
            backend.rmsNorm(act.k0, w.kNorm(), QK_NORM_EPS, act.kn);
        }
        if (w.dyn() != null) {
            backend.dynamicWeights(act.a, w.dyn(), act.dyn);
        }
    }

    /** The FFN (spec §1.5) from act.f into act.ffnOut. */
    static void feedForward(Backend backend, LayerWeights w, Activations act) {
        backend.linear(act.f, w.w1(), w.b1(), act.gate);
        if (w.w3() == null) {
            backend.gelu(act.gate, act.u);
        } else {
            backend.linear(act.f, w.w3(), null, act.up);
            backend.swiglu(act.gate, act.up, act.u);
            if (w.mg() != null) {
                backend.linear(act.f, w.mg(), null, act.mgLogits);
                backend.mgate(act.u, act.mgLogits, act.gated);
            }
        }
        backend.linear(act.gated, w.w2(), w.b2(), act.ffnOut);
    }

    /** The family's block norm: LayerNorm for DCPythia, RMSNorm for DCFormer++. */
    static void norm(DCFormerModel model, Tensor x, Tensor gain, Tensor bias, Tensor out) {
        float eps = (float) model.config().normEps();
        if (model.config().family() == ModelFamily.DCPYTHIA) {
            model.backend().layerNorm(x, gain, bias, eps, out);
        } else {
            model.backend().rmsNorm(x, gain, eps, out);
        }
    }
}
