package io.dcformer4j.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The memory behind one allocated tensor (or a referenced weight segment) and every view of it.
 * Owned memory lives in its own shared arena so that closing the tensor frees it at once.
 */
final class Storage {
    final MemorySegment segment;
    private final Arena arena;
    /** Bytes counted in {@link CpuBackend#liveBytes()}: 0 for memory the backend does not own. */
    final long ownedBytes;
    private volatile boolean closed;

    private Storage(MemorySegment segment, Arena arena, long ownedBytes) {
        this.segment = segment;
        this.arena = arena;
        this.ownedBytes = ownedBytes;
    }

    /** Zero-filled native memory of {@code bytes} bytes, 64-byte aligned. */
    static Storage allocate(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = arena.allocate(Math.max(bytes, 1), 64);
        return new Storage(seg, arena, bytes);
    }

    /** Memory owned by the caller (a memory-mapped checkpoint); never copied, never freed here. */
    static Storage external(MemorySegment segment) {
        return new Storage(segment, null, 0);
    }

    boolean isClosed() {
        return closed;
    }

    void close() {
        closed = true;
        if (arena != null) {
            arena.close();
        }
    }
}
