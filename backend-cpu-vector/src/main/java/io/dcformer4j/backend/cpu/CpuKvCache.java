package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

/**
 * One layer's ring cache in native memory: keys and values [capacity, N·D] and, for DCMHA, the key-side
 * compose factors [capacity, 2, 2I+1, N] (slots 1 and 3 of the dynamic weights). Position p lives in
 * slot p mod capacity.
 */
final class CpuKvCache implements KvCache {
    final CpuBackend backend;
    private final KvCacheSpec spec;
    final Storage keys;
    final Storage values;
    /** Null unless the spec keeps key-side factors. */
    final Storage keySide;
    private volatile int length;
    private volatile boolean closed;

    CpuKvCache(CpuBackend backend, KvCacheSpec spec) {
        this.backend = backend;
        this.spec = spec;
        long kvBytes = 4L * spec.capacity() * spec.numHeads() * spec.headDim();
        this.keys = Storage.allocate(kvBytes);
        this.values = Storage.allocate(kvBytes);
        this.keySide = spec.keySide() ? Storage.allocate(4L * spec.capacity() * spec.keySidePerToken()) : null;
    }

    long bytes() {
        return keys.ownedBytes + values.ownedBytes + (keySide == null ? 0 : keySide.ownedBytes);
    }

    void checkOpen(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": KV cache " + spec + " is closed");
        }
    }

    void advance(int t) {
        length += t;
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
        checkOpen("reset");
        length = 0;
    }

    @Override
    public void close() {
        if (closed) {
            throw new IllegalStateException("KV cache " + spec + " is already closed");
        }
        closed = true;
        backend.released(this);
        keys.close();
        values.close();
        if (keySide != null) {
            keySide.close();
        }
    }
}
