package io.dcformer4j.model;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One decode step for several sessions of one model at once: their B tokens go through the network as
 * B rows, so every linear layer reads its weights once for all of them (decode is bound by reading the
 * weights, so a step of B rows costs little more than a step of one). Each row keeps its own session's
 * position (RoPE per row) and caches ({@link Backend#attentionDecodeBatch}); on a backend whose row
 * operations do not depend on the number of rows (the CPU backend) each session gets exactly the logits
 * its own {@link Session#decode} would give.
 *
 * <pre>{@code
 * try (DecodeBatch batch = model.newDecodeBatch(16)) {
 *     float[][] logits = batch.step(List.of(s1, s2, s3), new int[] {t1, t2, t3});   // [B][V]
 * }
 * }</pre>
 *
 * <p>The scratch tensors for {@code maxRows} rows are allocated once; a step allocates only views and the
 * host logits. Not thread-safe: one thread steps a batch, and the sessions in a step must not be used
 * elsewhere meanwhile. Sessions whose layers differ (a local layer run as a global one because the session's
 * context is shorter than the window) are stepped in groups, one attention call per group and layer.
 */
public final class DecodeBatch implements AutoCloseable {
    private final DCFormerModel model;
    private final Backend backend;
    private final int maxRows;
    private final Activations full;
    private final Tensor logits;
    private final Map<Integer, Activations> heads = new java.util.HashMap<>();
    /** Row r's cache of the layer being stepped, reused by every layer and step (the backend keeps no reference). */
    private final KvCache[] rowCaches;
    private final List<KvCache> rowCacheList;
    private boolean closed;

    DecodeBatch(DCFormerModel model, int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("a decode batch needs room for at least one row, got " + maxRows);
        }
        this.model = model;
        this.backend = model.backend();
        this.maxRows = maxRows;
        this.rowCaches = new KvCache[maxRows];
        this.rowCacheList = Arrays.asList(rowCaches);
        ModelConfig c = model.config();
        this.full = new Activations(backend, c, model.composeRank(), model.composeHidden(), maxRows);
        try {
            this.logits = backend.allocate(DType.F32, Shape.of(maxRows, c.vocabSize()), "batch.logits"); // [B, V]
        } catch (RuntimeException e) {
            full.close();
            throw e;
        }
    }

    /** The largest number of sessions one step takes. */
    public int maxRows() {
        return maxRows;
    }

    /**
     * Feeds {@code tokens[b]} to {@code sessions.get(b)} at that session's position and returns the logits
     * of every row, [B][V], in the order given. Every session advances by one position.
     *
     * @throws IllegalArgumentException when the lists differ in length, are empty or longer than
     *                                  {@link #maxRows()}, a session appears twice or belongs to another model,
     *                                  or a session cannot take its token ({@link Session#checkDecode}); then
     *                                  no session has moved
     */
    public float[][] step(List<Session> sessions, int[] tokens) {
        if (closed) {
            throw new IllegalStateException("decode batch is closed");
        }
        model.checkOpen();
        int b = check(sessions, tokens);
        // rows grouped by their layers' attention specs (one group unless the sessions' contexts differ)
        Integer[] order = new Integer[b];
        for (int i = 0; i < b; i++) {
            order[i] = i;
        }
        List<AttentionSpec[]> kinds = new ArrayList<>();
        int[] kind = new int[b];
        for (int i = 0; i < b; i++) {
            AttentionSpec[] specs = sessions.get(i).attentionSpecs();
            int found = -1;
            for (int g = 0; g < kinds.size() && found < 0; g++) {
                if (Arrays.equals(kinds.get(g), specs)) {
                    found = g;
                }
            }
            if (found < 0) {
                kinds.add(specs);
                found = kinds.size() - 1;
            }
            kind[i] = found;
        }
        Arrays.sort(order, (x, y) -> Integer.compare(kind[x], kind[y]));
        Session[] rows = new Session[b];
        Activations act = heads.computeIfAbsent(b, n -> n == maxRows ? full : new Activations(full, n));
        int[] positions = new int[b];
        for (int r = 0; r < b; r++) {
            rows[r] = sessions.get(order[r]);
            act.tokens[r] = tokens[order[r]];
            positions[r] = rows[r].position();
        }
        for (Session s : rows) {
            s.beginStep();
        }
        forward(rows, kind, order, act, positions);
        for (Session s : rows) {
            s.endStep();
        }
        int vocab = model.config().vocabSize();
        float[] flat = backend.slice(logits, 0, b).toFloatArray(); // [B, V]
        float[][] out = new float[b][];
        for (int r = 0; r < b; r++) {
            out[order[r]] = Arrays.copyOfRange(flat, r * vocab, (r + 1) * vocab);
        }
        return out;
    }

    private int check(List<Session> sessions, int[] tokens) {
        if (sessions == null || tokens == null) {
            throw new IllegalArgumentException("sessions and tokens must be given");
        }
        int b = sessions.size();
        if (b == 0 || b > maxRows) {
            throw new IllegalArgumentException("a step takes 1 to " + maxRows + " sessions, got " + b);
        }
        if (tokens.length != b) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + b + " sessions; give one token per session");
        }
        Set<Session> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < b; i++) {
            Session s = sessions.get(i);
            if (s == null) {
                throw new IllegalArgumentException("session " + i + " is null");
            }
            if (s.model() != model) {
                throw new IllegalArgumentException("session " + i + " belongs to another model");
            }
            if (!seen.add(s)) {
                throw new IllegalArgumentException("session " + i + " appears twice in one step");
            }
            s.checkDecode(tokens[i]);
        }
        return b;
    }

    private void forward(Session[] rows, int[] kind, Integer[] order, Activations act, int[] positions) {
        int b = rows.length;
        backend.embedding(model.embedding(), act.tokens, act.x);
        for (int l = 0; l < model.config().numLayers(); l++) {
            int layer = l;
            Blocks.layer(model, l, act, () -> attention(layer, rows, kind, order, act, positions));
            for (int r = 0; r < b; r++) {
                LayerObserver o = rows[r].observer();
                if (o != null) {
                    o.afterLayer(l, positions[r], backend.slice(act.x, r, r + 1));
                }
            }
        }
        Blocks.norm(model, act.x, model.finalNorm(), act.xn);
        backend.linear(act.xn, model.output(), null, backend.slice(logits, 0, b));
    }

    /** Attention of every row over its own session's cache of this layer, one call per group of alike sessions. */
    private void attention(int l, Session[] rows, int[] kind, Integer[] order, Activations act, int[] positions) {
        LayerWeights w = model.layer(l);
        Blocks.projections(model, w, act);
        if (model.config().rotaryDim() > 0) {
            backend.ropeRows(act.qn, positions, model.rope(), act.q);
            backend.ropeRows(act.kn, positions, model.rope(), act.k);
        }
        Tensor dyn = w.compose().dynamic() != null ? act.dyn : null;
        int b = rows.length;
        for (int g0 = 0; g0 < b; ) {
            int g1 = g0 + 1;
            while (g1 < b && kind[order[g1]] == kind[order[g0]]) {
                g1++;
            }
            for (int r = g0; r < g1; r++) {
                rowCaches[r] = rows[r].cache(l);
            }
            List<KvCache> caches = rowCacheList.subList(g0, g1);
            AttentionSpec spec = rows[g0].attentionSpec(l);
            if (g0 == 0 && g1 == b) {
                backend.attentionDecodeBatch(act.q, act.k, act.v, dyn, caches, spec, act.attn);
            } else {
                backend.attentionDecodeBatch(backend.slice(act.q, g0, g1), backend.slice(act.k, g0, g1),
                        backend.slice(act.v, g0, g1), dyn == null ? null : backend.slice(dyn, g0, g1), caches, spec,
                        backend.slice(act.attn, g0, g1));
            }
            g0 = g1;
        }
        Blocks.linear(backend, act.attn, w.attention().o(), act.attnOut);
    }

    /** Releases the scratch tensors (the sessions are not touched). Closing twice is a no-op. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        heads.clear();
        full.close();
        logits.close();
    }
}
