package io.dcformer4j.model;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;

/**
 * One sequence being processed by a {@link DCFormerModel}: its position, its per-layer KV caches (with the
 * factored key-side compose cache for full DCMHA) and the scratch tensors of decode. Not thread-safe by
 * itself; use one session per thread (sessions on one model are independent).
 *
 * <p>Cache sizes: a global layer holds {@code maxContext} positions; a local layer a ring of W slots (W+1
 * with the R24 quirk). A local layer whose window covers the whole context is run as a global one (same
 * visible keys) with a {@code maxContext}-slot cache.
 *
 * <pre>{@code
 * try (Session s = model.newSession()) {
 *     float[] last = s.prefillLast(prompt);        // logits of the last prompt position
 *     int next = argmax(last);
 *     float[] logits = s.decode(next);              // position prompt.length
 * }
 * }</pre>
 */
public final class Session implements AutoCloseable {
    /** Rows of the largest piece a prefill is run in. */
    public static final int MAX_CHUNK = 512;
    private static final float QK_NORM_EPS = 1e-6f;

    private final DCFormerModel model;
    private final ModelConfig config;
    private final Backend backend;
    private final int maxContext;
    private final int maxChunk;
    private final AttentionSpec[] attention;
    private final KvCache[] caches;
    private final Activations step;
    private final Tensor stepLogits;
    private LayerObserver observer;
    private int position;
    private boolean failed;
    private boolean closed;

    Session(DCFormerModel model, int maxContext, int maxChunk) {
        if (maxChunk < 3) {
            throw new IllegalArgumentException("prefill pieces need at least 3 rows, got " + maxChunk);
        }
        this.maxChunk = maxChunk;
        this.model = model;
        this.config = model.config();
        this.backend = model.backend();
        this.maxContext = maxContext;
        int layers = config.numLayers();
        this.attention = new AttentionSpec[layers];
        this.caches = new KvCache[layers];
        Activations act = null;
        Tensor logits = null;
        try {
            for (int i = 0; i < layers; i++) {
                AttentionSpec base = model.attention(i);
                int keys = base.minRingCapacity();
                int capacity;
                if (base.isLocal() && keys < maxContext) {
                    attention[i] = base;
                    capacity = keys;
                } else {
                    attention[i] = new AttentionSpec(base.mode(), base.numHeads(), base.headDim(), base.rank(), 0, false,
                            base.staticPre(), base.staticPost());
                    capacity = maxContext;
                }
                caches[i] = backend.allocateKvCache(new KvCacheSpec(capacity, config.numHeads(), config.headDim(),
                        Math.max(1, model.composeRank()), base.mode().usesKeySide()));
            }
            act = new Activations(backend, config, model.composeRank(), 1);
            logits = backend.allocate(DType.F32, Shape.of(1, config.vocabSize()), "logits"); // [1, V]
        } catch (RuntimeException e) {
            if (act != null) {
                act.close();
            }
            for (KvCache c : caches) {
                if (c != null) {
                    c.close();
                }
            }
            throw e;
        }
        this.step = act;
        this.stepLogits = logits;
    }

    /** The model this session runs. */
    public DCFormerModel model() {
        return model;
    }

    /** The number of positions processed so far (the position of the next token). */
    public int position() {
        return position;
    }

    /** The largest number of positions this session can hold. */
    public int maxContext() {
        return maxContext;
    }

    /** Installs (or with {@code null} removes) a hook that sees the residual stream after every layer. */
    public void setLayerObserver(LayerObserver observer) {
        this.observer = observer;
    }

    /**
     * Processes {@code tokens} at positions {@link #position()} onwards (one prefill call, or a chunk
     * continuing an earlier one) and returns the logits of every new position, [T][V]. Long inputs are run
     * in pieces of at most {@value #MAX_CHUNK} rows to bound scratch memory; the result is the same as one
     * call (chunked prefill is exact, and no piece has a single row, so the R24 window switch is honoured).
     */
    public float[][] prefill(int[] tokens) {
        return runChunks(tokens, false);
    }

    /** As {@link #prefill} but computes only the last position's logits [V] (the output head dominates for long prompts). */
    public float[] prefillLast(int[] tokens) {
        return runChunks(tokens, true)[0];
    }

    /** Processes one token at {@link #position()} and returns its logits [V]. Allocates no tensors. */
    public float[] decode(int token) {
        checkRoom(1);
        checkToken(token, position);
        step.tokens[0] = token;
        forward(step, true, stepLogits);
        return stepLogits.toFloatArray();
    }

    /** Forgets the sequence: position 0, caches emptied (storage kept). */
    public void reset() {
        checkOpen();
        for (KvCache c : caches) {
            c.reset();
        }
        position = 0;
        failed = false;
    }

    private float[][] runChunks(int[] tokens, boolean lastOnly) {
        checkInput(tokens);
        float[][] out = new float[lastOnly ? 1 : tokens.length][];
        int vocab = config.vocabSize();
        Activations act = null;
        try {
            for (int done = 0; done < tokens.length; ) {
                int rows = chunkLength(tokens.length - done);
                if (act == null || act.rows != rows) {
                    if (act != null) {
                        act.close();
                    }
                    act = new Activations(backend, config, model.composeRank(), rows);
                }
                System.arraycopy(tokens, done, act.tokens, 0, rows);
                boolean last = done + rows == tokens.length;
                if (lastOnly && !last) {
                    forward(act, true, null);
                } else {
                    try (Tensor logits = backend.allocate(DType.F32, Shape.of(lastOnly ? 1 : rows, vocab), "logits")) {
                        forward(act, lastOnly, logits);
                        float[] flat = logits.toFloatArray();
                        for (int t = 0; t * vocab < flat.length; t++) {
                            out[lastOnly ? 0 : done + t] = Arrays.copyOfRange(flat, t * vocab, (t + 1) * vocab);
                        }
                    }
                }
                done += rows;
            }
        } finally {
            if (act != null) {
                act.close();
            }
        }
        return out;
    }

    /** The next piece of a long prefill: at most {@code maxChunk} rows, never leaving a single row behind. */
    private int chunkLength(int remaining) {
        if (remaining <= maxChunk) {
            return remaining;
        }
        return remaining == maxChunk + 1 ? maxChunk - 1 : maxChunk;
    }

    private void checkInput(int[] tokens) {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("no tokens given");
        }
        checkRoom(tokens.length);
        for (int t = 0; t < tokens.length; t++) {
            checkToken(tokens[t], position + t);
        }
    }

    private void checkRoom(int count) {
        checkOpen();
        if (failed) {
            throw new IllegalStateException("an earlier call on this session failed part-way; call reset() first");
        }
        if ((long) position + count > maxContext) {
            throw new IllegalArgumentException("cannot process " + count + " token(s) at position " + position
                    + ": the sequence would exceed the maximum context of " + maxContext + " positions (block_size "
                    + config.blockSize() + ")");
        }
    }

    private void checkToken(int token, int pos) {
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " at position " + pos
                    + " is outside the vocabulary [0, " + config.vocabSize() + ")");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("session is closed");
        }
        model.checkOpen();
    }

    /**
     * Runs all layers on {@code act.tokens} at the current position and writes logits (all rows or the last)
     * into {@code logits}, or skips the output head when it is {@code null}.
     */
    private void forward(Activations act, boolean lastOnly, Tensor logits) {
        int start = position;
        failed = true;
        backend.embedding(model.embedding(), act.tokens, act.x);
        for (int l = 0; l < caches.length; l++) {
            layer(l, act, start);
            if (observer != null) {
                observer.afterLayer(l, start, act.x);
            }
        }
        failed = false;
        position = start + act.rows;
        if (logits == null) {
            return;
        }
        norm(act.x, model.finalNorm(), act.xn);
        if (lastOnly && act.rows > 1) {
            backend.linear(backend.slice(act.xn, act.rows - 1, act.rows), model.output(), null, logits);
        } else {
            backend.linear(act.xn, model.output(), null, logits);
        }
    }

    private void layer(int l, Activations act, int start) {
        LayerWeights w = model.layer(l);
        norm(act.x, w.attentionNorm(), act.a);
        attention(l, w, act, start);
        if (config.parallelResidual()) {
            norm(act.x, w.ffnNorm(), act.f);
            feedForward(w.feedForward(), act);
            backend.add(act.x, act.attnOut, act.x);
            backend.add(act.x, act.ffnOut, act.x);
        } else {
            backend.add(act.x, act.attnOut, act.x);
            norm(act.x, w.ffnNorm(), act.f);
            feedForward(w.feedForward(), act);
            backend.add(act.x, act.ffnOut, act.x);
        }
    }

    /** DCMHA (spec §2.1) from act.a into act.attnOut; the caches advance by T. */
    private void attention(int l, LayerWeights lw, Activations act, int start) {
        LayerWeights.Attention w = lw.attention();
        linear(act.a, w.q(), act.q0);
        linear(act.a, w.k(), act.k0);
        linear(act.a, w.v(), act.v);
        if (w.hasQkNorm()) {
            backend.rmsNorm(act.q0, w.qNorm(), QK_NORM_EPS, act.qn);
            backend.rmsNorm(act.k0, w.kNorm(), QK_NORM_EPS, act.kn);
        }
        if (config.rotaryDim() > 0) {
            backend.rope(act.qn, start, model.rope(), act.q);
            backend.rope(act.kn, start, model.rope(), act.k);
        }
        Tensor dyn = null;
        if (lw.compose().dynamic() != null) {
            backend.dynamicWeights(act.a, lw.compose().dynamic(), act.dyn);
            dyn = act.dyn;
        }
        if (act.rows == 1) {
            backend.attentionDecode(act.q, act.k, act.v, dyn, caches[l], attention[l], act.attn);
        } else {
            backend.attentionPrefill(act.q, act.k, act.v, dyn, caches[l], attention[l], act.attn);
        }
        linear(act.attn, w.o(), act.attnOut);
    }

    /** The FFN (spec §1.5) from act.f into act.ffnOut. */
    private void feedForward(LayerWeights.FeedForward w, Activations act) {
        linear(act.f, w.w1(), act.gate);
        if (!w.isSwiGlu()) {
            backend.gelu(act.gate, act.u);
        } else {
            backend.linear(act.f, w.w3(), null, act.up);
            backend.swiglu(act.gate, act.up, act.u);
            if (w.mg() != null) {
                backend.linear(act.f, w.mg(), null, act.mgLogits);
                backend.mgate(act.u, act.mgLogits, act.gated);
            }
        }
        linear(act.gated, w.w2(), act.ffnOut);
    }

    private void linear(Tensor x, LayerWeights.Projection p, Tensor out) {
        backend.linear(x, p.weight(), p.bias(), out);
    }

    private void norm(Tensor x, LayerWeights.Norm norm, Tensor out) {
        float eps = (float) config.normEps();
        if (config.family() == ModelFamily.DCPYTHIA) {
            backend.layerNorm(x, norm.gain(), norm.bias(), eps, out);
        } else {
            backend.rmsNorm(x, norm.gain(), eps, out);
        }
    }

    /** Releases the caches and scratch tensors. */
    @Override
    public void close() {
        if (closed) {
            throw new IllegalStateException("session closed twice");
        }
        closed = true;
        step.close();
        stepLogits.close();
        for (KvCache c : caches) {
            c.close();
        }
    }
}
