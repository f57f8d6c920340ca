package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The load-time name rules of spec §5.3, as a view over a checkpoint.
 *
 * <p>{@link #normalize} returns a source in which
 * <ul>
 *   <li>{@code <p>wq.<s>}, {@code <p>wk.<s>}, {@code <p>wv.<s>} (for {@code s} = {@code weight} or {@code bias},
 *       any prefix {@code p}, in practice {@code layers.{i}.attention.}) are replaced by
 *       {@code <p>wqkv.<s>} = their concatenation along axis 0 (rows q, then k, then v), materialised once in
 *       memory owned by the view;</li>
 *   <li>derived and runtime entries are hidden (see {@link #isDerived}).</li>
 * </ul>
 * Everything else passes through unchanged (same segments, still mapped).
 *
 * <p>The projection rule: {@code dyn_w_proj.pre_proj.w} and {@code dyn_w_proj.post_proj.w} are buffers equal
 * to the identity unless the model was trained with static composition weights ({@code use_sw}). They are
 * hidden only when every [N, N] slice of them is exactly the identity (ones on the diagonal, zeros elsewhere,
 * in their stored dtype); otherwise they carry real static weights and are kept, so a model with
 * {@code use_sw} still finds them. The converter applies the same rule.
 */
public final class CheckpointNames {

    private static final Pattern SPLIT = Pattern.compile("(.*\\.)?(wq|wk|wv)\\.(weight|bias)");
    private static final Pattern PROJECTION = Pattern.compile(".*\\.dyn_w_proj\\.(pre_proj|post_proj)\\.w");

    private CheckpointNames() {
    }

    /**
     * Whether a name is a derived or runtime entry that a loader ignores: {@code dyn_w_proj.dw_m},
     * {@code dyn_w_proj.qkw_m} (recomputed from dw1/dd/qkw), {@code dyn_w_proj.sw} and anything under
     * {@code kv_cache.} (cache buffers). Identity {@code pre_proj.w}/{@code post_proj.w} are also hidden,
     * but that depends on their values: see {@link #isIdentityProjection}.
     */
    public static boolean isDerived(String name) {
        return name.endsWith("dyn_w_proj.dw_m") || name.endsWith("dyn_w_proj.qkw_m") || name.endsWith("dyn_w_proj.sw")
                || name.startsWith("kv_cache.") || name.contains(".kv_cache.");
    }

    /** Whether a name is a {@code pre_proj.w} / {@code post_proj.w} buffer. */
    public static boolean isProjection(String name) {
        return PROJECTION.matcher(name).matches();
    }

    /**
     * Whether a tensor is an exact identity in each of its trailing [N, N] slices (ones on the diagonal and
     * zeros elsewhere, compared in the stored dtype; -0 counts as zero).
     */
    public static boolean isIdentityProjection(TensorInfo info, MemorySegment data) {
        Shape s = info.shape();
        if (s.rank() < 2 || s.dim(-1) != s.dim(-2) || !info.dtype().isFloating()) {
            return false;
        }
        int n = s.dim(-1);
        int es = info.dtype().byteSize();
        long count = s.numel();
        for (long i = 0; i < count; i++) {
            long within = i % ((long) n * n);
            boolean diagonal = within / n == within % n;
            float v = read(info.dtype(), data, i * es);
            if (diagonal ? v != 1f : v != 0f) {
                return false;
            }
        }
        return true;
    }

    private static float read(DType dtype, MemorySegment data, long offset) {
        return switch (dtype) {
            case F32 -> data.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset);
            case F16 -> Float.float16ToFloat(data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset));
            case BF16 -> Float.intBitsToFloat(
                    data.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset) << 16);
            case I32, Q8_0 -> throw new IllegalArgumentException("not a floating type: " + dtype);
        };
    }

    /** Whether the name is hidden by {@link #normalize}: derived, or an identity projection. */
    static boolean hidden(WeightSource source, TensorInfo t) {
        return isDerived(t.name()) || isProjection(t.name()) && isIdentityProjection(t, source.data(t.name()));
    }

    /**
     * A view of {@code source} with {@code wq}/{@code wk}/{@code wv} merged into {@code wqkv} and derived
     * entries hidden (rules in the class comment). The view owns {@code source}: closing the view closes it.
     *
     * @throws CheckpointException naming the tensors when a split projection is incomplete, when both the
     *                             split and the fused form are present, or when the parts disagree in dtype or
     *                             width
     */
    public static WeightSource normalize(WeightSource source) {
        Arena arena = Arena.ofShared();
        try {
            SortedMap<String, TensorInfo> visible = new TreeMap<>();
            Map<String, MemorySegment> merged = new HashMap<>();
            Map<String, String[]> groups = new TreeMap<>();
            for (TensorInfo t : source.tensors().values()) {
                Matcher m = SPLIT.matcher(t.name());
                if (m.matches()) {
                    String prefix = m.group(1) == null ? "" : m.group(1);
                    groups.computeIfAbsent(prefix + "wqkv." + m.group(3), k -> new String[3])[
                            "wq".equals(m.group(2)) ? 0 : "wk".equals(m.group(2)) ? 1 : 2] = t.name();
                } else if (!hidden(source, t)) {
                    visible.put(t.name(), t);
                }
            }
            for (Map.Entry<String, String[]> g : groups.entrySet()) {
                TensorInfo fused = concat(source, g.getKey(), g.getValue(), arena, merged);
                visible.put(fused.name(), fused);
            }
            return new NormalizedSource(source, arena, Collections.unmodifiableSortedMap(visible), merged);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static TensorInfo concat(WeightSource source, String fusedName, String[] parts, Arena arena,
                                     Map<String, MemorySegment> merged) {
        String[] roles = {"wq", "wk", "wv"};
        for (int i = 0; i < 3; i++) {
            if (parts[i] == null) {
                throw new CheckpointException(source.origin() + ": " + fusedName + " cannot be formed: "
                        + fusedName.replace("wqkv.", roles[i] + ".") + " is missing");
            }
        }
        if (source.contains(fusedName)) {
            throw new CheckpointException(source.origin() + ": both " + fusedName + " and " + parts[0]
                    + " are present; a checkpoint carries either the fused or the split projection");
        }
        TensorInfo q = source.tensors().get(parts[0]);
        long rows = 0;
        for (String p : parts) {
            TensorInfo t = source.tensors().get(p);
            if (t.dtype() != q.dtype() || t.shape().rank() != q.shape().rank() || t.shape().rank() < 1 || t.shape().rank() > 2
                    || t.shape().rank() == 2 && t.shape().dim(1) != q.shape().dim(1)) {
                throw new CheckpointException(source.origin() + ": cannot concatenate " + p + " (" + t.dtype() + " "
                        + t.shape() + ") with " + parts[0] + " (" + q.dtype() + " " + q.shape() + ") into " + fusedName);
            }
            rows += t.shape().dim(0);
        }
        Shape shape = q.shape().rank() == 1 ? Shape.ofLongs(rows) : Shape.ofLongs(rows, q.shape().dim(1));
        long bytes = q.dtype().bytesFor(shape.numel());
        MemorySegment out = arena.allocate(bytes, 8); // [Nq + Nk + Nv rows, E] or [Nq + Nk + Nv]
        long at = 0;
        for (String p : parts) {
            MemorySegment d = source.data(p);
            MemorySegment.copy(d, 0, out, at, d.byteSize());
            at += d.byteSize();
        }
        merged.put(fusedName, out);
        return new TensorInfo(fusedName, q.dtype(), shape, q.file(), -1, bytes);
    }

    /** The view returned by {@link #normalize}. */
    private static final class NormalizedSource implements WeightSource {
        private final WeightSource source;
        private final Arena arena;
        private final SortedMap<String, TensorInfo> tensors;
        private final Map<String, MemorySegment> merged;
        private boolean closed;

        NormalizedSource(WeightSource source, Arena arena, SortedMap<String, TensorInfo> tensors,
                         Map<String, MemorySegment> merged) {
            this.source = source;
            this.arena = arena;
            this.tensors = tensors;
            this.merged = merged;
        }

        @Override
        public SortedMap<String, TensorInfo> tensors() {
            return tensors;
        }

        @Override
        public synchronized MemorySegment data(String name) {
            if (closed) {
                throw new IllegalStateException(origin() + " is closed (reading tensor '" + name + "')");
            }
            if (!tensors.containsKey(name)) {
                throw new IllegalArgumentException("no tensor '" + name + "' in " + origin()
                        + (source.contains(name) ? " (derived or cache entry, hidden by name normalisation)" : ""));
            }
            MemorySegment m = merged.get(name);
            return m != null ? m : source.data(name);
        }

        @Override
        public String origin() {
            return source.origin();
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                arena.close();
                source.close();
            }
        }
    }
}
