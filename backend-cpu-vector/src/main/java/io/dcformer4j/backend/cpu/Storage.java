package io.dcformer4j.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * The memory behind one allocated tensor (or a referenced weight segment) and every view of it.
 * Owned memory comes from {@link NativePool}: freed (or, when small, pooled for reuse) when the tensor closes.
 */
final class Storage {
    final MemorySegment segment;
    /** The pooled block behind owned memory, returned to {@link NativePool} on close; null otherwise. */
    private final NativePool.Block block;
    /** Bytes counted in {@link CpuBackend#liveBytes()}: 0 for memory the backend does not own. */
    final long ownedBytes;
    private volatile boolean closed;

    private Storage(MemorySegment segment, NativePool.Block block, long ownedBytes) {
        this.segment = segment;
        this.block = block;
        this.ownedBytes = ownedBytes;
    }

    /** Zero-filled native memory of {@code bytes} bytes, 64-byte aligned (small blocks reused, see NativePool). */
    static Storage allocate(long bytes) {
        NativePool.Block b = NativePool.take(bytes);
        return new Storage(b.segment(), b, bytes);
    }

    /** Memory owned by the caller (a memory-mapped checkpoint); never copied, never freed here. */
    static Storage external(MemorySegment segment) {
        return new Storage(segment, null, 0);
    }

    boolean isClosed() {
        return closed;
    }

    /** Frees the memory (once: a pooled block given back twice would be handed to two owners). */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (block != null) {
            NativePool.give(block);
        }
    }
}
