package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

/**
 * One layer's device-resident attention cache: keys and values [capacity, N*D] and, with key side,
 * the factored key-side compose weights [capacity, 2, 2I+1, N] (dyn slots 1 and 3). Position p is in
 * slot p mod capacity.
 */
final class CudaKvCache implements KvCache {
    private final CudaBackend backend;
    private final KvCacheSpec spec;
    final DeviceBuffer keys;
    final DeviceBuffer values;
    final DeviceBuffer keySide;
    private int length;
    private boolean closed;

    CudaKvCache(CudaBackend backend, KvCacheSpec spec, DeviceBuffer keys, DeviceBuffer values, DeviceBuffer keySide) {
        this.backend = backend;
        this.spec = spec;
        this.keys = keys;
        this.values = values;
        this.keySide = keySide;
    }

    CudaBackend owner() {
        return backend;
    }

    @Override
    public KvCacheSpec spec() {
        return spec;
    }

    @Override
    public int length() {
        return length;
    }

    void advance(int t) {
        length += t;
    }

    boolean isClosed() {
        return closed;
    }

    /** Forgets every position; stale slots are never read because visibility is bounded by {@link #length()}. */
    @Override
    public void reset() {
        if (closed) {
            throw new IllegalStateException("KV cache is closed");
        }
        length = 0;
    }

    @Override
    public void close() {
        if (closed) {
            throw new IllegalStateException("KV cache is already closed");
        }
        closed = true;
        backend.release(keys);
        backend.release(values);
        if (keySide != null) {
            backend.release(keySide);
        }
        backend.countClosed();
    }
}
