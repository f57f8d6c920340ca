package io.dcformer4j.model;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.Arrays;

/**
 * One sequence being processed by a {@link DCFormerModel}: its position, its per-layer KV caches (with the
 * factored key-side compose cache for full DCMHA) and the scratch tensors of decode. Not thread-safe by
 * itself; use one session per thread (sessions on one model are independent).
 *
 * <p>Cache sizes: a global layer holds up to {@code maxContext} positions (growing with the sequence where
 * the backend supports it, each step's growth reserved in the model's {@link CacheBudget} before it runs); a
 * local layer a ring of W slots (W+1 with the R24 quirk). A local layer whose window covers the whole context is run as a global one (same
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
    /** Bytes this session holds in {@link DCFormerModel#cacheBudget()}. */
    private long reserved;
    private boolean failed;
    private boolean closed;
    // Every token processed since the last reset, so that non-finite logits can be explained by a replay.
    private int[] history = new int[16];
    private boolean diagnosing;

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
            long held = 0;
            for (KvCache c : caches) {
                held += c.bytes();
            }
            model.cacheBudget().reserve(held, "cannot open a session of " + maxContext + " positions");
            reserved = held;
            act = new Activations(backend, config, model.composeRank(), model.composeHidden(), 1);
            logits = backend.allocate(DType.F32, Shape.of(1, config.vocabSize()), "logits"); // [1, V]
        } catch (RuntimeException e) {
            model.cacheBudget().release(reserved);
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
        float[] logits = stepLogits.toFloatArray();
        requireFinite(logits, logits.length, position - 1);
        return logits;
    }

    /**
     * Checks that {@link #decode}{@code (token)} may run now (open, not failed, room for one more position, a
     * token of the vocabulary), throwing what {@code decode} would throw. The engine checks a sequence's next
     * token this way on its own thread before the sequence joins a batched step, so that one bad sequence
     * never fails a step shared with others.
     */
    public void checkDecode(int token) {
        checkRoom(1);
        checkToken(token, position);
    }

    /**
     * The piece sizes {@link #prefill} runs a prompt of {@code length} tokens in (at most {@value #MAX_CHUNK}
     * rows, never a single trailing row). Running the pieces one {@link #prefillLast} call at a time fills the
     * caches with the same floats as one call, so a scheduler may interleave them with other work.
     */
    public int[] prefillPieces(int length) {
        if (length <= 0) {
            throw new IllegalArgumentException("no tokens given");
        }
        int[] pieces = new int[length / Math.max(1, maxChunk - 1) + 2];
        int count = 0;
        for (int done = 0; done < length; ) {
            int rows = chunkLength(length - done);
            pieces[count++] = rows;
            done += rows;
        }
        return Arrays.copyOf(pieces, count);
    }

    // ---------------------------------------------------------------- for DecodeBatch

    KvCache cache(int layer) {
        return caches[layer];
    }

    AttentionSpec attentionSpec(int layer) {
        return attention[layer];
    }

    /** The per-layer attention specs (global-ised local layers included): sessions with equal arrays batch together. */
    AttentionSpec[] attentionSpecs() {
        return attention;
    }

    LayerObserver observer() {
        return observer;
    }

    /** Marks a step as under way: should it fail part-way, the session refuses use until reset. */
    void beginStep() {
        failed = true;
    }

    /** The step finished: one more position. */
    void endStep() {
        failed = false;
        position++;
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

    /**
     * Logits must be finite (they are on the host anyway, so the check costs one pass over V floats per
     * position); when they are not, the sequence is replayed from the start with a probe after every layer,
     * to name the first layer whose output went non-finite.
     */
    private void requireFinite(float[] flat, int vocab, int firstRowPosition) {
        if (diagnosing) {
            return;
        }
        for (int i = 0; i < flat.length; i++) {
            if (!Float.isFinite(flat[i])) {
                throw explainNonFinite(firstRowPosition + i / vocab, flat[i]);
            }
        }
    }

    private NonFiniteOutputException explainNonFinite(int pos, float value) {
        int[] tokens = Arrays.copyOf(history, position);
        FirstNonFiniteLayer probe = new FirstNonFiniteLayer(config.dim());
        LayerObserver saved = observer;
        for (KvCache c : caches) {
            c.reset();
        }
        position = 0;
        failed = false;
        diagnosing = true;
        observer = probe;
        String replay;
        try {
            runChunks(tokens, true);
            replay = probe.layer >= 0
                    ? "replaying the " + tokens.length + " tokens layer by layer, the output of layer " + probe.layer
                    + " (of " + config.numLayers() + ") is the first that is not finite: " + probe.value + " at position "
                    + probe.position + ", element " + probe.element
                    : "replaying the " + tokens.length + " tokens layer by layer, every layer's output is finite: the "
                    + "final norm or the output head makes them non-finite";
        } catch (RuntimeException e) {
            replay = "the layer-by-layer replay failed (" + e.getMessage() + ")";
        } finally {
            diagnosing = false;
            observer = saved;
            failed = true;
        }
        return new NonFiniteOutputException("the logits at position " + pos + " are not finite (" + value + "); " + replay
                + ". The weights may hold NaN or infinity: 'dcformer4j inspect --check' names the first one",
                pos, probe.layer);
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
                    act = new Activations(backend, config, model.composeRank(), model.composeHidden(), rows);
                }
                System.arraycopy(tokens, done, act.tokens, 0, rows);
                boolean last = done + rows == tokens.length;
                if (lastOnly && !last) {
                    forward(act, true, null);
                } else {
                    try (Tensor logits = backend.allocate(DType.F32, Shape.of(lastOnly ? 1 : rows, vocab), "logits")) {
                        forward(act, lastOnly, logits);
                        float[] flat = logits.toFloatArray();
                        requireFinite(flat, vocab, lastOnly ? position - 1 : position - rows);
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
        reserve(position + count);
    }

    /**
     * Admission of a generation that may run this session up to position {@code end} (exclusive, at most the
     * maximum context): reserves in the model's cache budget what the caches will then hold, waiting in line
     * while other sessions hold the bytes (see {@link CacheBudget#awaitReserve}). Later steps up to {@code end}
     * then take nothing more from the budget; {@link #trimReservation()} gives back what was not used.
     *
     * @return false when {@code cancelled} turned true while waiting (nothing reserved)
     * @throws CacheBudgetExceededException when the bytes exceed the whole budget or the wait timed out
     */
    public boolean admit(int end, Duration timeout, BooleanSupplier cancelled) {
        checkOpen();
        int to = Math.min(end, maxContext);
        long extra = cacheBytesFor(to) - reserved;
        if (extra <= 0) {
            return true;
        }
        if (!model.cacheBudget().awaitReserve(extra, timeout, cancelled, "a generation up to position " + to
                + " of a session at position " + position)) {
            return false;
        }
        reserved += extra;
        return true;
    }

    /** Gives back to the cache budget what this session reserved beyond what its caches hold now. */
    public void trimReservation() {
        long held = 0;
        for (KvCache c : caches) {
            held += c.bytes();
        }
        if (!closed && reserved > held) {
            model.cacheBudget().release(reserved - held);
            reserved = held;
        }
    }

    /** Bytes this session's caches hold once positions [0, end) are stored. */
    public long cacheBytesFor(int end) {
        long need = 0;
        for (KvCache c : caches) {
            need += c.bytesFor(end);
        }
        return need;
    }

    /**
     * Reserves in the model's cache budget what the caches will hold once positions [0, end) are stored, so
     * that the step is refused before it runs when it does not fit. Asking again for the same end is free.
     */
    private void reserve(int end) {
        long need = cacheBytesFor(end);
        if (need > reserved) {
            model.cacheBudget().reserve(need - reserved, "cannot process position(s) up to " + (end - 1)
                    + " of a session at position " + position);
            reserved = need;
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
        if (!diagnosing) {
            if (history.length < start + act.rows) {
                history = Arrays.copyOf(history, Math.max(2 * history.length, start + act.rows));
            }
            System.arraycopy(act.tokens, 0, history, start, act.rows);
        }
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
        Blocks.layer(model, l, act, () -> attention(l, model.layer(l), act, start));
    }

    /** DCMHA (spec §2.1) from act.a into act.attnOut; the caches advance by T. */
    private void attention(int l, LayerWeights w, Activations act, int start) {
        Blocks.projections(model, w, act);
        if (config.rotaryDim() > 0) {
            backend.rope(act.qn, start, model.rope(), act.q);
            backend.rope(act.kn, start, model.rope(), act.k);
        }
        Tensor dyn = w.compose().dynamic() != null ? act.dyn : null;
        if (act.rows == 1) {
            backend.attentionDecode(act.q, act.k, act.v, dyn, caches[l], attention[l], act.attn);
        } else {
            backend.attentionPrefill(act.q, act.k, act.v, dyn, caches[l], attention[l], act.attn);
        }
        Blocks.linear(backend, act.attn, w.attention().o(), act.attnOut);
    }

    private void norm(Tensor x, LayerWeights.Norm norm, Tensor out) {
        Blocks.norm(model, x, norm, out);
    }

    /** Releases the caches and scratch tensors. */
    @Override
    public void close() {
        if (closed) {
            throw new IllegalStateException("session closed twice");
        }
        closed = true;
        model.cacheBudget().release(reserved);
        reserved = 0;
        step.close();
        stepLogits.close();
        for (KvCache c : caches) {
            c.close();
        }
    }
}
