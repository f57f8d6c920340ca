package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

/**
 * One layer's ring cache. Position p lives in slot p mod capacity. Keys are stored transposed,
 * [N·D][capacity], so that the logits of consecutive keys are a contiguous vector for every head and
 * component; values are row-major [capacity][N·D]; the DCMHA key-side factors (slots 1 and 3 of the
 * dynamic weights) are transposed too, [2·(2I+1)·N][capacity], so compose reads them a vector of keys at
 * a time.
 */
final class CpuKvCache implements KvCache {
    final CpuBackend backend;
    private final KvCacheSpec spec;
    final float[] keys;      // [N·D][capacity]
    final float[] values;    // [capacity][N·D]
    /** Null unless the spec keeps key-side factors. */
    final float[] keySide;   // [2·(2I+1)·N][capacity] + L
    private volatile int length;
    private volatile boolean closed;

    CpuKvCache(CpuBackend backend, KvCacheSpec spec) {
        this.backend = backend;
        this.spec = spec;
        int nd = Math.multiplyExact(spec.numHeads(), spec.headDim());
        this.keys = new float[Math.multiplyExact(nd, spec.capacity())];
        this.values = new float[Math.multiplyExact(nd, spec.capacity())];
        // one vector of padding: compose loads whole vectors past the last slot and discards those lanes
        this.keySide = spec.keySide() ? new float[Math.multiplyExact(spec.keySidePerToken(), spec.capacity()) + Vec.L] : null;
    }

    long bytes() {
        return 4L * keys.length + 4L * values.length + (keySide == null ? 0 : 4L * keySide.length);
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
    }
}
