package io.dcformer4j.bench;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link WeightSource} of seeded random weights generated off-heap for a {@link BenchPreset}, so that
 * speed can be measured without downloading a checkpoint. Values are uniform with a standard deviation of
 * 1/sqrt(fan-in) (residual-branch outputs additionally divided by sqrt(2L), norm gains 1), which keeps
 * activations finite through every layer; the same seed always yields the same bytes.
 */
public final class PresetWeights implements WeightSource {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final Arena arena = Arena.ofShared();
    private final SortedMap<String, TensorInfo> infos = new TreeMap<>();
    private final Map<String, MemorySegment> data = new TreeMap<>();
    private final String origin;
    private boolean closed;

    private PresetWeights(BenchPreset preset, boolean dcmha, long seed) {
        this.origin = "random weights of preset " + preset.name() + (dcmha ? " (DCMHA)" : " (plain MHA)") + ", seed " + seed;
        DType dtype = preset.storageDType();
        Map<String, int[]> shapes = preset.tensorShapes(dcmha);
        for (var e : shapes.entrySet()) {
            Shape shape = Shape.of(e.getValue());
            long bytes = shape.numel() * dtype.byteSize();
            infos.put(e.getKey(), new TensorInfo(e.getKey(), dtype, shape, null, 0, bytes));
            data.put(e.getKey(), arena.allocate(bytes, 64));
        }
        // Tensors are independent (one seed each), so they can be filled in parallel.
        data.entrySet().parallelStream()
                .forEach(e -> fill(e.getKey(), shapes.get(e.getKey()), e.getValue(), preset.layers(), dtype, seed));
    }

    /**
     * Generates the weights of a preset.
     *
     * @param dcmha false for the plain-MHA baseline (no {@code dyn_w_proj} tensors)
     * @param seed  the random seed
     */
    public static PresetWeights generate(BenchPreset preset, boolean dcmha, long seed) {
        return new PresetWeights(preset, dcmha, seed);
    }

    /** Total bytes of all tensors. */
    public long totalBytes() {
        return infos.values().stream().mapToLong(TensorInfo::byteSize).sum();
    }

    @Override
    public SortedMap<String, TensorInfo> tensors() {
        return Collections.unmodifiableSortedMap(infos);
    }

    @Override
    public MemorySegment data(String name) {
        if (closed) {
            throw new IllegalStateException("weight source closed: " + origin);
        }
        MemorySegment s = data.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + origin);
        }
        return s.asReadOnly();
    }

    @Override
    public String origin() {
        return origin;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }

    /** The standard deviation used for a tensor, from its role (spec §5.1 names). */
    static double stdDev(String name, int[] shape, int layers) {
        if (name.endsWith("norm.weight") || name.endsWith("norm.scale")) {
            return 0;
        }
        if (name.equals("tok_embeddings.weight")) {
            return 1;
        }
        int fanIn;
        if (name.endsWith("dyn_w_proj.qkw")) {
            fanIn = shape[2]; // [1, 4, K, 2I, N]
        } else if (name.endsWith("dyn_w_proj.dw1") || name.endsWith("dyn_w_proj.dd")) {
            fanIn = shape[0]; // [E, 1, 4, K] and [E, 1, 4N]
        } else {
            fanIn = shape[1]; // nn.Linear layout [out, in]
        }
        double std = 1.0 / Math.sqrt(fanIn);
        if (name.endsWith("wo.weight") || name.endsWith("w2.weight")) {
            std /= Math.sqrt(2.0 * layers);
        }
        return std;
    }

    private static void fill(String name, int[] shape, MemorySegment seg, int layers, DType dtype, long seed) {
        double std = stdDev(name, shape, layers);
        long n = seg.byteSize() / dtype.byteSize();
        // Uniform on [-a, a] has standard deviation a / sqrt(3).
        float a = (float) (std * Math.sqrt(3.0));
        long state = mix(seed ^ mix(name.hashCode()));
        for (long i = 0; i < n; i++) {
            float v;
            if (std == 0) {
                v = 1f;
            } else {
                state = state * 6364136223846793005L + 1442695040888963407L;
                // 24 high bits -> [0, 1)
                float u = (state >>> 40) * 0x1.0p-24f;
                v = a * (2f * u - 1f);
            }
            switch (dtype) {
                case F32 -> seg.setAtIndex(FLOAT, i, v);
                case BF16 -> seg.setAtIndex(SHORT, i, Numerics.floatToBf16(v));
                case F16 -> seg.setAtIndex(SHORT, i, Numerics.floatToF16(v));
                case I32 -> throw new IllegalArgumentException("random weights need a floating dtype, got I32 for " + name);
            }
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
