package io.dcformer4j.model;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link WeightSource} over tensors held in native memory, for models built from generated weights
 * (tests, benchmarks) rather than a checkpoint file. See {@link RandomWeights} for a filled one.
 *
 * <pre>{@code
 * MemoryWeightSource src = MemoryWeightSource.builder()
 *         .put("norm.weight", DType.F32, Shape.of(64), gains)
 *         .build();
 * }</pre>
 */
public final class MemoryWeightSource implements WeightSource {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena;
    private final SortedMap<String, TensorInfo> infos;
    private final Map<String, MemorySegment> data;
    private boolean closed;

    private MemoryWeightSource(Arena arena, SortedMap<String, TensorInfo> infos, Map<String, MemorySegment> data) {
        this.arena = arena;
        this.infos = Collections.unmodifiableSortedMap(infos);
        this.data = data;
    }

    /** A builder that collects tensors; its memory belongs to the source it builds. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public SortedMap<String, TensorInfo> tensors() {
        return infos;
    }

    @Override
    public synchronized MemorySegment data(String name) {
        if (closed) {
            throw new IllegalStateException("weight source " + origin() + " is closed");
        }
        MemorySegment seg = data.get(name);
        if (seg == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + origin());
        }
        return seg;
    }

    @Override
    public String origin() {
        return "in-memory weights";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            throw new IllegalStateException("weight source " + origin() + " closed twice");
        }
        closed = true;
        arena.close();
    }

    /** Collects named tensors, converting float values to the storage dtype. */
    public static final class Builder {
        private final Arena arena = Arena.ofShared();
        private final SortedMap<String, TensorInfo> infos = new TreeMap<>();
        private final Map<String, MemorySegment> data = new HashMap<>();

        private Builder() {
        }

        /** Adds a tensor of {@code dtype} (F32, BF16 or F16) holding {@code values} rounded to that type. */
        public Builder put(String name, DType dtype, Shape shape, float[] values) {
            if (values.length != shape.numel()) {
                throw new IllegalArgumentException("tensor '" + name + "' of shape " + shape + " needs " + shape.numel()
                        + " values, got " + values.length);
            }
            if (!dtype.isFloating()) {
                throw new IllegalArgumentException("tensor '" + name + "': dtype " + dtype + " is not a float type");
            }
            if (infos.containsKey(name)) {
                throw new IllegalArgumentException("tensor '" + name + "' added twice");
            }
            long bytes = shape.numel() * dtype.byteSize();
            MemorySegment seg = arena.allocate(Math.max(1, bytes), 64).asSlice(0, bytes);
            for (int i = 0; i < values.length; i++) {
                switch (dtype) {
                    case F32 -> seg.setAtIndex(F32_LE, i, values[i]);
                    case BF16 -> seg.setAtIndex(I16_LE, i, Numerics.floatToBf16(values[i]));
                    case F16 -> seg.setAtIndex(I16_LE, i, Numerics.floatToF16(values[i]));
                    default -> throw new IllegalStateException(dtype.name());
                }
            }
            infos.put(name, new TensorInfo(name, dtype, shape, null, 0, bytes));
            data.put(name, seg);
            return this;
        }

        /** The source; the builder must not be used afterwards. */
        public MemoryWeightSource build() {
            return new MemoryWeightSource(arena, new TreeMap<>(infos), new HashMap<>(data));
        }
    }
}
