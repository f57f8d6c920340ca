package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** One worker and two workers agree, and several caller threads can share one backend. */
class ThreadingTest {

    private static float[] linear(Backend b, float[] x, float[] w, int t, int in, int out) {
        try (Tensor xt = b.fromFloats(DType.F32, Shape.of(t, in), java.util.Arrays.copyOf(x, t * in), "x");
             Tensor wt = b.fromFloats(DType.BF16, Shape.of(out, in), w, "w");
             Tensor ot = b.allocate(DType.F32, Shape.of(t, out), "out")) {
            b.linear(xt, wt, null, ot);
            return ot.toFloatArray();
        }
    }

    @Test
    void oneAndTwoWorkersAgree() {
        Random rnd = new Random(21);
        float[] x = TestData.random(rnd, 7 * 65, 1f);
        float[] w = TestData.random(rnd, 133 * 65, 1f);
        AttentionRunner r = new AttentionRunner(22, 4, 16, 2, 40);
        try (Backend one = new CpuBackendProvider().open(BackendOptions.withThreads(1));
             Backend two = new CpuBackendProvider().open(BackendOptions.withThreads(2))) {
            for (int t : new int[] {1, 7}) {
                float[] a = linear(one, x, w, t, 65, 133);
                float[] b = linear(two, x, w, t, 65, 133);
                TestData.assertClose("linear T=" + t + " 1 vs 2 workers", b, TestData.toDouble(a), 1e-6, 1e-5);
            }
            for (AttentionMode mode : AttentionMode.values()) {
                float[] a = r.run(one, mode, 8, false, 8, 30, 1, 1, 8);
                float[] b = r.run(two, mode, 8, false, 8, 30, 1, 1, 8);
                TestData.assertClose(mode + " 1 vs 2 workers", b, TestData.toDouble(a), 1e-6, 1e-5);
            }
        }
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        AttentionRunner r = new AttentionRunner(23, 4, 16, 2, 48);
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(2))) {
            float[] expected = r.run(b, AttentionMode.DCMHA, 0, false, 48, 20, 1, 1, 26);
            ExecutorService callers = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    results.add(callers.submit(() -> r.run(b, AttentionMode.DCMHA, 0, false, 48, 20, 1, 1, 26)));
                }
                // not bitwise: vector reductions and EXP may round differently before and after JIT compilation
                for (Future<float[]> f : results) {
                    TestData.assertClose("concurrent caller", f.get(), TestData.toDouble(expected), 1e-6, 1e-5);
                }
            } finally {
                callers.shutdown();
            }
            assertThat(b.liveTensors()).isZero();
        }
    }
}
