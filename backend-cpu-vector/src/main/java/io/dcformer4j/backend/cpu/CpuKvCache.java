package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;

import java.lang.foreign.Arena;

/**
 * One layer's ring cache in pages off the Java heap. Position p lives in ring slot p mod capacity, slot s in
 * column s mod P of page s / P, where P ({@link #pageSlots}) is {@value #PAGE} slots, or the capacity when that
 * is smaller. Each page is a {@link KeyBlock}: keys transposed [N·D][P] so that the logits of consecutive keys
 * are a contiguous vector for every head and component, values head-major [N][P][D], and the DCMHA key-side
 * factors (slots 1 and 3 of the dynamic weights) transposed [2·(2I+1)·N][P], so compose reads them a vector of
 * keys at a time. The attention kernel reads the keys of a block as one piece per page.
 *
 * <p>Pages are taken from an {@link Arena} the cache owns when a call first needs their slots and stay until
 * the cache is closed, which frees them all: a sequence grows a page at a time, nothing is copied on growth and
 * nothing is sized from the maximum context before it is needed.
 */
final class CpuKvCache implements KvCache {
    /** Slots per page. A multiple of the kernels' key vectors (2L for every supported width up to 512 bits). */
    static final int PAGE = 32;

    final CpuBackend backend;
    private final KvCacheSpec spec;
    private final int nd;
    /** Transposed rows of key-side factors per page: 2·(2I+1)·N, or 0 when the spec keeps none. */
    private final int keySideRows;
    /** Slots per page: {@value #PAGE}, or the capacity when smaller. */
    final int pageSlots;
    private final Arena arena = Arena.ofShared();
    /** The pages held, page i for ring slots [i·P, (i+1)·P); entries at and after {@link #held} are null. */
    KeyBlock[] pages = new KeyBlock[0];
    private int held;
    private volatile int length;
    private volatile boolean closed;

    CpuKvCache(CpuBackend backend, KvCacheSpec spec) {
        this.backend = backend;
        this.spec = spec;
        this.nd = Math.multiplyExact(spec.numHeads(), spec.headDim());
        this.keySideRows = spec.keySide() ? spec.keySidePerToken() : 0;
        this.pageSlots = Math.min(PAGE, spec.capacity());
    }

    /** Whether the pages keep key-side factors. */
    boolean keepsKeySide() {
        return keySideRows > 0;
    }

    private long pageBytes() {
        return KeyBlock.bytes(nd, keySideRows, pageSlots);
    }

    @Override
    public long bytes() {
        return held * pageBytes();
    }

    @Override
    public long bytesFor(int positions) {
        return pagesFor(positions) * pageBytes();
    }

    /** The pages held after {@link #ensure}{@code (end)}. */
    private int pagesFor(int end) {
        long slots = Math.min(spec.capacity(), Math.max(0, end));
        return (int) Math.max(held, (slots + pageSlots - 1) / pageSlots);
    }

    /**
     * Makes room for positions [0, end): the pages of the slots p mod capacity of those positions are held
     * afterwards (new pages are added, none moves). Returns the bytes added.
     */
    long ensure(int end) {
        int need = pagesFor(end);
        if (need == held) {
            return 0;
        }
        if (need > pages.length) {
            pages = java.util.Arrays.copyOf(pages, Math.max(need, Math.min(2 * pages.length + 1,
                    (spec.capacity() + pageSlots - 1) / pageSlots)));
        }
        long before = bytes();
        for (int i = held; i < need; i++) {
            pages[i] = KeyBlock.allocate(arena, nd, keySideRows, pageSlots);
        }
        held = need;
        long added = bytes() - before;
        backend.grew(added);
        return added;
    }

    /** The page of ring slot {@code slot}. */
    KeyBlock page(int slot) {
        return pages[slot / pageSlots];
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
        pages = new KeyBlock[0];
        arena.close();
    }
}
