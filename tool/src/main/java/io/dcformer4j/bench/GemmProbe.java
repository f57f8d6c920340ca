package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.SplittableRandom;

/** The backend's own matrix-product rate: {@link Backend#linear} at prefill shapes, in GFLOP/s. */
public final class GemmProbe {
    private GemmProbe() {
    }

    /**
     * Times {@code backend.linear(x, w, null, out)} with x [M, K] F32 and w [N, K] of {@code weightType}.
     *
     * @return the median rate in GFLOP/s
     */
    public static double gflops(Backend backend, GemmShape shape, DType weightType, int reps, double minSeconds) {
        SplittableRandom rnd = new SplittableRandom(shape.hashCode());
        try (Tensor x = backend.fromFloats(DType.F32, Shape.of(shape.m(), shape.k()),
                     random(rnd, (long) shape.m() * shape.k()), "bench.gemm.x"); // [M, K]
             Tensor w = backend.fromFloats(weightType, Shape.of(shape.n(), shape.k()),
                     random(rnd, (long) shape.n() * shape.k()), "bench.gemm.w"); // [N, K]
             Tensor out = backend.allocate(DType.F32, Shape.of(shape.m(), shape.n()), "bench.gemm.out")) { // [M, N]
            double s = Timer.medianSecondsPerCall(() -> backend.linear(x, w, null, out), reps, minSeconds);
            return shape.flops() / s / 1e9;
        }
    }

    static float[] random(SplittableRandom rnd, long n) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() - 0.5);
        }
        return a;
    }
}
