package io.dcformer4j.model;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * The scratch tensors of one forward call over T rows. A session keeps one set for T = 1 so that decode
 * steps allocate nothing; a prefill allocates a set sized to its chunk and closes it afterwards.
 */
final class Activations implements AutoCloseable {
    final int rows;
    final int[] tokens;
    final Tensor x;
    final Tensor a;
    final Tensor q0;
    final Tensor k0;
    final Tensor qn;
    final Tensor kn;
    final Tensor q;
    final Tensor k;
    final Tensor v;
    final Tensor dyn;
    final Tensor dynProjected;
    final Tensor attn;
    final Tensor attnOut;
    final Tensor f;
    final Tensor gate;
    final Tensor up;
    final Tensor u;
    final Tensor gated;
    final Tensor mgLogits;
    final Tensor ffnOut;
    final Tensor xn;
    /** The outputs of the layer's attention pass ({@link LayerWeights#attentionPass}): q, k, v (and a · dw_m). */
    final List<Tensor> attentionPassOuts;
    /** The outputs of its FFN pass ({@link LayerWeights#ffnPass}): gate, up (and mgate's logits); null for GELU. */
    final List<Tensor> ffnPassOuts;
    private final List<Tensor> owned = new ArrayList<>();
    private final Backend backend;

    Activations(Backend backend, ModelConfig c, int rank, int hidden, int rows) {
        this.backend = backend;
        this.rows = rows;
        this.tokens = new int[rows];
        int e = c.dim();
        int ff = c.intermediateSize();
        boolean pythia = c.family() == ModelFamily.DCPYTHIA;
        try {
            x = f32("x", rows, e);                          // [T, E] residual stream
            a = f32("a", rows, e);                          // [T, E] normalised attention input
            q0 = f32("q", rows, e);                         // [T, N·D]
            k0 = f32("k", rows, e);                         // [T, N·D]
            v = f32("v", rows, e);                          // [T, N·D]
            qn = c.useQkNorm() ? f32("q.norm", rows, e) : q0;
            kn = c.useQkNorm() ? f32("k.norm", rows, e) : k0;
            q = c.rotaryDim() > 0 ? f32("q.rope", rows, e) : qn;
            k = c.rotaryDim() > 0 ? f32("k.rope", rows, e) : kn;
            dyn = c.useDcmha()                              // [T, 4, 2I+1, N]
                    ? track(backend.allocate(DType.F32, Shape.of(rows, 4, 2 * rank + 1, c.numHeads()), "dyn")) : null;
            dynProjected = c.useDcmha()                     // [T, 4K + 4N], a · dw_m
                    ? f32("dyn.projected", rows, 4 * hidden + 4 * c.numHeads()) : null;
            attn = f32("attn.o", rows, e);                  // [T, N·D]
            attnOut = f32("attn.out", rows, e);             // [T, E]
            f = f32("ffn.in", rows, e);                     // [T, E]
            gate = f32("ffn.w1", rows, ff);                 // [T, F]
            up = pythia ? null : f32("ffn.w3", rows, ff);   // [T, F]
            u = f32("ffn.u", rows, ff);                     // [T, F]
            gated = c.mgate() ? f32("ffn.mgated", rows, ff) : u;
            mgLogits = c.mgate() ? f32("ffn.mg", rows, c.mgateDim()) : null;
            ffnOut = f32("ffn.out", rows, e);               // [T, E]
            xn = f32("final.norm", rows, e);                // [T, E]
            attentionPassOuts = attentionPassOuts(q0, k0, v, dynProjected);
            ffnPassOuts = ffnPassOuts(gate, up, mgLogits);
        } catch (RuntimeException ex) {
            close();
            throw ex;
        }
    }

    /**
     * Views of the first {@code rows} rows of {@code full} (sharing its storage, aliases kept: where qk-norm is
     * off, qn is q0 in both). Closing the views releases nothing; {@code full} owns the storage.
     */
    Activations(Activations full, int rows) {
        this.backend = full.backend;
        this.rows = rows;
        this.tokens = new int[rows];
        java.util.Map<Tensor, Tensor> views = new java.util.IdentityHashMap<>();
        java.util.function.UnaryOperator<Tensor> head = t -> t == null ? null
                : views.computeIfAbsent(t, x -> backend.slice(x, 0, rows));
        x = head.apply(full.x);
        a = head.apply(full.a);
        q0 = head.apply(full.q0);
        k0 = head.apply(full.k0);
        v = head.apply(full.v);
        qn = head.apply(full.qn);
        kn = head.apply(full.kn);
        q = head.apply(full.q);
        k = head.apply(full.k);
        dyn = head.apply(full.dyn);
        dynProjected = head.apply(full.dynProjected);
        attn = head.apply(full.attn);
        attnOut = head.apply(full.attnOut);
        f = head.apply(full.f);
        gate = head.apply(full.gate);
        up = head.apply(full.up);
        u = head.apply(full.u);
        gated = head.apply(full.gated);
        mgLogits = head.apply(full.mgLogits);
        ffnOut = head.apply(full.ffnOut);
        xn = head.apply(full.xn);
        attentionPassOuts = attentionPassOuts(q0, k0, v, dynProjected);
        ffnPassOuts = ffnPassOuts(gate, up, mgLogits);
    }

    private static List<Tensor> attentionPassOuts(Tensor q0, Tensor k0, Tensor v, Tensor dynProjected) {
        return dynProjected == null ? List.of(q0, k0, v) : List.of(q0, k0, v, dynProjected);
    }

    private static List<Tensor> ffnPassOuts(Tensor gate, Tensor up, Tensor mgLogits) {
        if (up == null) {
            return null;
        }
        return mgLogits == null ? List.of(gate, up) : List.of(gate, up, mgLogits);
    }

    private Tensor f32(String label, int r, int cols) {
        return track(backend.allocate(DType.F32, Shape.of(r, cols), label));
    }

    private Tensor track(Tensor t) {
        owned.add(t);
        return t;
    }

    @Override
    public void close() {
        for (Tensor t : owned) {
            if (!t.isClosed()) {
                t.close();
            }
        }
        owned.clear();
    }
}
