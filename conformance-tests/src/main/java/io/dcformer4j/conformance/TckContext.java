package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * What one test of the kit works with: the backend under test (opened lazily with two workers, so that
 * races show), further backends when a test needs them, the test's random generator, and bookkeeping that
 * closes every tensor, cache and backend at the end of the test and then checks that the backend's live
 * tensor count returned to zero.
 */
public final class TckContext implements AutoCloseable {
    /** Workers of the default backend: two, so that work is actually split. */
    public static final int DEFAULT_THREADS = 2;

    private final Function<BackendOptions, Backend> opener;
    private final SplittableRandom random;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final List<Backend> backends = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private Backend backend;

    TckContext(Function<BackendOptions, Backend> opener, SplittableRandom random) {
        this.opener = opener;
        this.random = random;
    }

    /** The backend under test, with {@value #DEFAULT_THREADS} workers. */
    public Backend backend() {
        if (backend == null) {
            backend = open(DEFAULT_THREADS);
        }
        return backend;
    }

    /** Another instance of the backend under test, closed at the end of the test. */
    public Backend open(int threads) {
        Backend b = opener.apply(BackendOptions.withThreads(threads));
        if (b == null) {
            throw new AssertionError("openBackend returned null");
        }
        backends.add(b);
        return b;
    }

    /** Opens a backend the test closes itself (lifecycle tests). */
    public Backend openUnmanaged(int threads) {
        return opener.apply(BackendOptions.withThreads(threads));
    }

    /** The test's generator (see {@link TckSeed}). */
    public SplittableRandom random() {
        return random;
    }

    /** Registers a tensor or cache to be closed at the end of the test. */
    public synchronized <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** An F32 tensor of the default backend holding {@code values}. */
    public Tensor f32(float[] values, String label, int... dims) {
        return own(backend().fromFloats(DType.F32, Shape.of(dims), values, label));
    }

    /** A zero-filled F32 tensor of the default backend. */
    public Tensor zeros(String label, int... dims) {
        return own(backend().allocate(DType.F32, Shape.of(dims), label));
    }

    /** A tensor of {@code dtype} built with {@link Backend#fromFloats} on a given backend. */
    public Tensor tensor(Backend b, DType dtype, float[] values, String label, int... dims) {
        return own(b.fromFloats(dtype, Shape.of(dims), values, label));
    }

    /**
     * A weight tensor of {@code dtype} built with {@link Backend#weights} from little-endian bytes (the
     * values rounded to the dtype first); the bytes live until the end of the test.
     */
    public Tensor weights(Backend b, DType dtype, float[] values, String label, int... dims) {
        return own(b.weights(dtype, Shape.of(dims), bytes(dtype, values), label));
    }

    /** Little-endian bytes of {@code values} rounded to {@code dtype} (quantized by the reference for Q8_0). */
    public MemorySegment bytes(DType dtype, float[] values) {
        MemorySegment seg = arena.allocate(dtype.bytesFor(values.length), 8);
        if (dtype == DType.Q8_0) {
            Q8_0Format.quantize(values, 0, values.length, seg, 0);
            return seg;
        }
        for (int i = 0; i < values.length; i++) {
            put(seg, dtype, i, values[i]);
        }
        return seg;
    }

    /** Stores element {@code index} of a little-endian {@code dtype} array, rounded to the dtype. */
    static void put(MemorySegment seg, DType dtype, long index, float value) {
        switch (dtype) {
            case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index, value);
            case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index, Numerics.floatToBf16(value));
            case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), index, Numerics.floatToF16(value));
            case I32 -> throw new IllegalArgumentException("I32 weights are not float values");
            case Q8_0 -> throw new IllegalArgumentException("Q8_0 is written a block at a time (see bytes)");
        }
    }

    /** The arena of the test's host memory (closed after every tensor of the test). */
    Arena arena() {
        return arena;
    }

    /** Values rounded to {@code dtype} (what a backend must have stored; quantized and back for Q8_0). */
    public static float[] rounded(DType dtype, float[] values) {
        if (dtype == DType.Q8_0) {
            return Q8_0Format.rounded(values);
        }
        float[] out = new float[values.length]; // same shape as values
        for (int i = 0; i < values.length; i++) {
            out[i] = Numerics.roundTo(dtype, values[i]);
        }
        return out;
    }

    /** n values from N(0, sigma²). */
    public float[] normal(int n, double sigma) {
        float[] out = new float[n]; // [n]
        for (int i = 0; i < n; i++) {
            out[i] = (float) (gaussian() * sigma);
        }
        return out;
    }

    /** n values uniform in [lo, hi). */
    public float[] uniform(int n, double lo, double hi) {
        float[] out = new float[n]; // [n]
        for (int i = 0; i < n; i++) {
            out[i] = (float) (lo + (hi - lo) * random.nextDouble());
        }
        return out;
    }

    private double gaussian() {
        double u = 1.0 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /**
     * Closes every registered tensor and cache (already closed ones are skipped), checks that the default
     * backend reports no live tensors or bytes, then closes every backend.
     */
    @Override
    public void close() {
        Throwable failure = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                AutoCloseable r = owned.get(i);
                if (r instanceof Tensor t && t.isClosed()) {
                    continue;
                }
                r.close();
            } catch (IllegalStateException alreadyClosed) {
                // A cache or tensor the test closed itself (lifecycle tests do).
            } catch (Exception | Error e) {
                failure = failure == null ? e : failure;
            }
        }
        owned.clear();
        try {
            for (Backend b : backends) {
                long live = b.liveTensors();
                long bytes = b.liveBytes();
                if (live != 0 || bytes != 0) {
                    throw new AssertionError("after closing every tensor and cache of the test, backend '" + b.name()
                            + "' still reports liveTensors() = " + live + ", liveBytes() = " + bytes + " (expected 0, 0)");
                }
            }
        } catch (AssertionError e) {
            failure = failure == null ? e : failure;
        } finally {
            for (Backend b : backends) {
                try {
                    b.close();
                } catch (RuntimeException e) {
                    failure = failure == null ? e : failure;
                }
            }
            backends.clear();
            arena.close();
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }
}
