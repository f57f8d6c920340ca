package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

/**
 * One layer's ring cache. Position p lives in slot p mod capacity. Keys are stored transposed,
 * [N·D][stride], so that the logits of consecutive keys are a contiguous vector for every head and
 * component; values are row-major [stride][N·D]; the DCMHA key-side factors (slots 1 and 3 of the
 * dynamic weights) are transposed too, [2·(2I+1)·N][stride], so compose reads them a vector of keys at
 * a time.
 *
 * <p>Storage grows with use: {@code stride} (the slots held) starts at zero and at least doubles, up to the
 * capacity, when a call needs more slots than are held, so a session that holds a short prompt costs a short
 * cache whatever its maximum context; nothing is sized from the maximum before it is needed.
 */
final class CpuKvCache implements KvCache {
    /** Slots of the first allocation. */
    static final int FIRST_SLOTS = 16;

    final CpuBackend backend;
    private final KvCacheSpec spec;
    private final int nd;
    /** Slots held (the row stride of the transposed arrays); positions below it never wrap. */
    int stride;
    float[] keys = new float[0];      // [N·D][stride]
    float[] values = new float[0];    // [stride][N·D]
    /** Null unless the spec keeps key-side factors. */
    float[] keySide;                  // [2·(2I+1)·N][stride] + L
    private volatile int length;
    private volatile boolean closed;

    CpuKvCache(CpuBackend backend, KvCacheSpec spec) {
        this.backend = backend;
        this.spec = spec;
        this.nd = Math.multiplyExact(spec.numHeads(), spec.headDim());
        // one vector of padding: compose loads whole vectors past the last slot and discards those lanes
        this.keySide = spec.keySide() ? new float[Vec.L] : null;
    }

    /** Bytes held for {@code slots} slots. */
    private long bytesForSlots(int slots) {
        return 4L * (2L * nd * slots + (keySide == null ? 0 : (long) spec.keySidePerToken() * slots + Vec.L));
    }

    @Override
    public long bytes() {
        return bytesForSlots(stride);
    }

    @Override
    public long bytesFor(int positions) {
        return bytesForSlots(slotsFor(positions));
    }

    /** The slots held after {@link #ensure}{@code (end)}. */
    private int slotsFor(int end) {
        int need = Math.min(spec.capacity(), end);
        if (need <= stride) {
            return stride;
        }
        return Math.min(spec.capacity(), Math.max(need, Math.max(FIRST_SLOTS, 2 * stride)));
    }

    /**
     * Makes room for positions [0, end): the slots p mod capacity of those positions are held afterwards
     * (copying what is held into larger arrays). Returns the bytes added.
     */
    long ensure(int end) {
        int slots = slotsFor(end);
        if (slots == stride) {
            return 0;
        }
        long before = bytes();
        float[] k = new float[Math.multiplyExact(nd, slots)];
        float[] v = new float[Math.multiplyExact(nd, slots)];
        for (int x = 0; x < nd; x++) {
            System.arraycopy(keys, x * stride, k, x * slots, stride);
        }
        System.arraycopy(values, 0, v, 0, nd * stride);
        if (keySide != null) {
            int rows = spec.keySidePerToken();
            float[] ks = new float[Math.addExact(Math.multiplyExact(rows, slots), Vec.L)];
            for (int x = 0; x < rows; x++) {
                System.arraycopy(keySide, x * stride, ks, x * slots, stride);
            }
            keySide = ks;
        }
        keys = k;
        values = v;
        stride = slots;
        long added = bytes() - before;
        backend.grew(added);
        return added;
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
