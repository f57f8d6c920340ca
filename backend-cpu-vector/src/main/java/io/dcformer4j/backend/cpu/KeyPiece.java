package io.dcformer4j.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * A contiguous run of the keys a query block attends to, all in one {@link KeyBlock}: consecutive ring slots of
 * one page of the cache (positions before the call), or consecutive rows of the call's fresh block.
 *
 * @param store where the keys are: a cache page or the call's fresh block
 * @param col   the first key's column in its store
 * @param first the first key's index in the block's key range [lo, hi] (its column in the logits scratch)
 * @param count the number of keys
 */
record KeyPiece(KeyBlock store, int col, int first, int count) {

    /** The part of this piece whose key indices fall in [a, b), or {@code null} when none do. */
    KeyPiece clip(int a, int b) {
        int from = Math.max(a, first);
        int to = Math.min(b, first + count);
        return from < to ? new KeyPiece(store, col + from - first, from, to - from) : null;
    }

    /** The keys, transposed [N·D][stride], of this piece's store. */
    MemorySegment keys() {
        return store.keys();
    }

    /** The values, head-major [N][stride][D], of this piece's store. */
    MemorySegment values() {
        return store.values();
    }

    /** The key-side compose factors, transposed [2·(2I+1)·N][stride] + L, of this piece's store. */
    MemorySegment keySide() {
        return store.keySide();
    }

    /** Columns per transposed row of this piece's store. */
    int stride() {
        return store.stride();
    }
}
