package io.dcformer4j.backend.cpu;

/**
 * A contiguous run of the keys a query block attends to, all stored alike: either consecutive ring slots of
 * the cache (positions before the call) or consecutive rows of the call's fresh block.
 *
 * @param fresh whether the keys are the call's own (read from the {@link FreshBlock}) rather than the cache's
 * @param col   the first key's column in its store: a ring slot, or a row of the call
 * @param first the first key's index in the block's key range [lo, hi] (its column in the logits scratch)
 * @param count the number of keys
 */
record KeyPiece(boolean fresh, int col, int first, int count) {

    /** The part of this piece whose key indices fall in [a, b), or {@code null} when none do. */
    KeyPiece clip(int a, int b) {
        int from = Math.max(a, first);
        int to = Math.min(b, first + count);
        return from < to ? new KeyPiece(fresh, col + from - first, from, to - from) : null;
    }

    /** The keys, transposed [N·D][stride], of this piece's store. */
    float[] keys(AttentionKernel.Call c) {
        return fresh ? c.fresh().keysT() : c.cache().keys;
    }

    /** The values, row-major [slots][N·D], of this piece's store. */
    float[] values(AttentionKernel.Call c) {
        return fresh ? c.fresh().values() : c.cache().values;
    }

    /** The key-side compose factors, transposed [2·(2I+1)·N][stride], of this piece's store. */
    float[] keySide(AttentionKernel.Call c) {
        return fresh ? c.fresh().keySideT() : c.cache().keySide;
    }

    /** Columns per transposed row of this piece's store: the call's rows, or the ring's capacity. */
    int stride(AttentionKernel.Call c) {
        return fresh ? c.t() : c.cache().stride;
    }
}
