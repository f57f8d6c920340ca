package io.dcformer4j.api;

/**
 * One layer's key/value cache and (for DCMHA) its factored key-side compose cache, owned by a backend
 * and filled by the fused attention ops. It records how many positions have been appended; the
 * attention ops require new queries to start exactly there.
 */
public interface KvCache extends AutoCloseable {

    /** The cache's shape. */
    KvCacheSpec spec();

    /** Number of positions appended so far (the next position to be written). */
    int length();

    /**
     * Bytes of storage this cache holds now. The default is a cache allocated whole up front
     * ({@link KvCacheSpec#fullBytes()}); a backend whose caches grow with use reports what it holds.
     */
    default long bytes() {
        return spec().fullBytes();
    }

    /**
     * Bytes this cache will hold once positions [0, {@code positions}) have been appended (no allocation);
     * callers use it to admit a step against a memory budget before running it. The default is {@link #bytes()}.
     */
    default long bytesFor(int positions) {
        return bytes();
    }

    /** Forgets every position, so the cache can serve a new sequence; storage is kept. */
    void reset();

    /** Releases the storage; closing twice fails. */
    @Override
    void close();
}
