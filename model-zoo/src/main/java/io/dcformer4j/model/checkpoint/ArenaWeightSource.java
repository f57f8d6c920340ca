package io.dcformer4j.model.checkpoint;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;

/**
 * The lookup and lifecycle shared by checkpoint files whose tensors are segments of one arena (the file's
 * mapping and any copies made while reading it): closing the source closes the arena, and reads after that
 * fail instead of touching unmapped memory.
 */
abstract class ArenaWeightSource implements WeightSource {
    private final Path file;
    private final Arena arena;
    private final SortedMap<String, TensorInfo> tensors;
    private final Map<String, MemorySegment> segments;
    private boolean closed;

    ArenaWeightSource(Path file, Arena arena, SortedMap<String, TensorInfo> tensors, Map<String, MemorySegment> segments) {
        this.file = file;
        this.arena = arena;
        this.tensors = Collections.unmodifiableSortedMap(tensors);
        this.segments = Map.copyOf(segments);
    }

    @Override
    public SortedMap<String, TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public synchronized MemorySegment data(String name) {
        if (closed) {
            throw new IllegalStateException(file + " is closed (reading tensor '" + name + "')");
        }
        MemorySegment s = segments.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + file);
        }
        return s;
    }

    @Override
    public String origin() {
        return file.toString();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
