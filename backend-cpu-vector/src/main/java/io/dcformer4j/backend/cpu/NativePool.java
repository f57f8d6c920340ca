package io.dcformer4j.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reuse of small off-heap blocks. Each tensor lived in its own shared arena, and closing a shared arena is a
 * handshake with every Java thread: a demo-model request allocated and closed about fifty (activations, a
 * prefill's key block and projections), and under load the VM thread spent a fifth of a core on them while every
 * other thread paused for each. Blocks of at most {@link #MAX_BLOCK} bytes now go back to a process-wide pool
 * when their owner closes and are handed out again, zeroed, to the next request of the same size; the pool keeps
 * at most {@link #MAX_IDLE} idle bytes and closes what exceeds it (oldest sizes first). Larger blocks keep an
 * arena of their own, closed at once.
 */
final class NativePool {
    /** Blocks up to this size are pooled. */
    static final long MAX_BLOCK = 1L << 20;
    /** Idle bytes the pool keeps at most. */
    static final long MAX_IDLE = 32L << 20;

    /** A block: its whole allocation, the arena that frees it, and the part handed out. */
    record Block(Arena arena, MemorySegment whole, MemorySegment segment) {
    }

    // idle blocks by size, least recently used size first
    private static final LinkedHashMap<Long, ArrayDeque<Block>> IDLE = new LinkedHashMap<>(16, 0.75f, true);
    private static long idleBytes;

    private NativePool() {
    }

    /** A zeroed block of at least {@code bytes} bytes (64-byte aligned); its segment is exactly that long. */
    static Block take(long bytes) {
        long size = Math.max(64, (bytes + 63) & ~63L);
        if (size <= MAX_BLOCK) {
            Block b = poll(size);
            if (b != null) {
                MemorySegment s = b.whole().asSlice(0, Math.max(bytes, 1));
                s.fill((byte) 0);
                return new Block(b.arena(), b.whole(), s);
            }
        }
        Arena arena = Arena.ofShared();
        MemorySegment whole = arena.allocate(size, 64);
        return new Block(arena, whole, whole.asSlice(0, Math.max(bytes, 1)));
    }

    /** Returns a block from {@link #take}; it must not be used afterwards. */
    static void give(Block b) {
        long size = b.whole().byteSize();
        if (size > MAX_BLOCK) {
            b.arena().close();
            return;
        }
        List<Block> evicted = offer(b, size);
        for (Block e : evicted) {
            e.arena().close();
        }
    }

    private static synchronized Block poll(long size) {
        ArrayDeque<Block> q = IDLE.get(size);
        if (q == null || q.isEmpty()) {
            return null;
        }
        idleBytes -= size;
        return q.poll();
    }

    private static synchronized List<Block> offer(Block b, long size) {
        IDLE.computeIfAbsent(size, s -> new ArrayDeque<>()).push(b);
        idleBytes += size;
        List<Block> evicted = new ArrayList<>();
        Iterator<Map.Entry<Long, ArrayDeque<Block>>> it = IDLE.entrySet().iterator();
        while (idleBytes > MAX_IDLE && it.hasNext()) {
            Map.Entry<Long, ArrayDeque<Block>> e = it.next();
            while (idleBytes > MAX_IDLE && !e.getValue().isEmpty()) {
                evicted.add(e.getValue().pollLast());
                idleBytes -= e.getKey();
            }
            if (e.getValue().isEmpty()) {
                it.remove();
            }
        }
        return evicted;
    }

    /** Idle bytes held (for tests). */
    static synchronized long idleBytes() {
        return idleBytes;
    }

    /**
     * Scratch memory for one call: every segment it allocates comes from the pool and goes back on close (one
     * call's prefill key block and projections).
     */
    static final class Scratch implements SegmentAllocator, AutoCloseable {
        private final List<Block> blocks = new ArrayList<>(4);

        @Override
        public MemorySegment allocate(long byteSize, long byteAlignment) {
            if (byteAlignment > 64) {
                throw new IllegalArgumentException("scratch alignment above 64 bytes: " + byteAlignment);
            }
            Block b = take(byteSize);
            blocks.add(b);
            return b.segment();
        }

        @Override
        public void close() {
            for (Block b : blocks) {
                give(b);
            }
            blocks.clear();
        }
    }
}
