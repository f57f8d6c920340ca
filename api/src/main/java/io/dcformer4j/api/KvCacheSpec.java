package io.dcformer4j.api;

/**
 * Shape of one layer's attention cache. Position p lives in slot {@code p mod capacity}: a global layer
 * needs a capacity of at least the longest context, a local layer a ring of at least its window.
 *
 * @param capacity  number of key slots
 * @param numHeads  N
 * @param headDim   D
 * @param rank      I (ignored unless {@code keySide})
 * @param keySide   whether the key-side compose factors (slots 1 and 3 of the dynamic weights,
 *                  2 × (2I + 1) × N floats per key: the factored KW cache of spec §4.2) are kept
 */
public record KvCacheSpec(int capacity, int numHeads, int headDim, int rank, boolean keySide) {
    /** Validates the fields. */
    public KvCacheSpec {
        if (capacity <= 0 || numHeads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("cache capacity, heads and headDim must be positive, got "
                    + capacity + ", " + numHeads + ", " + headDim);
        }
        if (keySide && rank <= 0) {
            throw new IllegalArgumentException("key-side cache needs a positive rank, got " + rank);
        }
    }

    /** Floats of key-side factors per key: slots 1 and 3, each w1 [I, N], w2 [I, N], dg [N]. */
    public int keySidePerToken() {
        return keySide ? 2 * (2 * rank + 1) * numHeads : 0;
    }

    /** Bytes of the whole cache in F32: keys and values [capacity, N·D] and the key-side factors. */
    public long fullBytes() {
        return 4L * capacity * (2L * numHeads * headDim + keySidePerToken());
    }
}
