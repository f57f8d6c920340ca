package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

/** The ring cache of {@link NaiveBackend}: position p in slot p mod capacity. */
final class NaiveKvCache implements KvCache {
    private final NaiveBackend owner;
    private final KvCacheSpec spec;
    final float[] keys;     // [capacity, N·D]
    final float[] values;   // [capacity, N·D]
    final float[] keySide;  // [capacity, 2, 2I+1, N]
    int length;
    /** The most positions this cache has held since it was allocated (reset does not lower it). */
    int highWater;
    private boolean closed;

    NaiveKvCache(NaiveBackend owner, KvCacheSpec spec) {
        this.owner = owner;
        this.spec = spec;
        int width = spec.numHeads() * spec.headDim();
        keys = new float[spec.capacity() * width];
        values = new float[spec.capacity() * width];
        keySide = new float[spec.capacity() * spec.keySidePerToken()];
    }

    NaiveBackend owner() {
        return owner;
    }

    @Override
    public long bytes() {
        return 4L * (keys.length + values.length + keySide.length);
    }

    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
    }

    @Override
    public KvCacheSpec spec() {
        return spec;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void reset() {
        ensureOpen();
        length = 0;
    }

    @Override
    public void close() {
        ensureOpen();
        closed = true;
        owner.released(bytes());
    }
}
