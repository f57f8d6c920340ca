package io.dcformer4j.benchmarks;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.SplittableRandom;

/** Shared set-up of the benchmarks: backend opening and random tensors. */
final class Fixtures {
    /** JVM flags every forked benchmark JVM needs (the Vector API is an incubator module). */
    static final String ADD_VECTOR = "--add-modules=jdk.incubator.vector";
    /** Lets the backend use restricted FFM methods without a warning. */
    static final String NATIVE = "--enable-native-access=ALL-UNNAMED";

    private Fixtures() {
    }

    /** Opens a backend by name with a thread count (0: all processors). */
    static Backend open(String name, int threads) {
        return Backends.open(name, BackendOptions.withThreads(threads));
    }

    /** A tensor of uniform values in [-scale, scale]. */
    static Tensor random(Backend b, DType dtype, Shape shape, double scale, long seed, String label) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(shape.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (scale * (2 * rnd.nextDouble() - 1));
        }
        return b.fromFloats(dtype, shape, v, label);
    }

    /** Parses "AxB" or "AxBxC" into ints. */
    static int[] dims(String spec) {
        String[] p = spec.split("x");
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = Integer.parseInt(p[i]);
        }
        return d;
    }
}
