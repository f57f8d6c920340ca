package io.dcformer4j.backend.cpu;

import static io.dcformer4j.backend.cpu.TestData.random;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code linears} (one pass over several weights, {@link RowGemv#runMany}) gives every projection the very floats
 * {@code linear} gives it alone: weights of every dtype and of output counts that are and are not multiples of the
 * four-column block and of {@link RowGemv#GRAIN} side by side, so units of different weights meet inside one
 * worker's range; rows on both sides of {@link RowGemv#MAX_ROWS}; one and two workers. Tagged {@code vector-widths}:
 * the pom runs it again at 256 and 128 bits.
 */
@Tag("vector-widths")
class LinearsTest {
    @BeforeEach
    void forcedWidthFitsThisCpu() {
        TestData.assumeForcedWidthFitsThisCpu();
    }

    @Test
    void everyProjectionEqualsItsLinearAlone() {
        Random rnd = new Random(23);
        int[][] shapes = {{1, 32}, {4, 96}, {5, 1000}, {64, 64}, {65, 32}};   // (rows, in)
        int[] outs = {7, 33, 16, 1, 20, 64};
        DType[] dtypes = {DType.BF16, DType.F32, DType.Q8_0, DType.F16, DType.BF16, DType.Q8_0};
        for (int threads : new int[] {1, 2}) {
            try (Backend backend = new CpuBackendProvider().open(BackendOptions.withThreads(threads))) {
                for (int[] s : shapes) {
                    int rows = s[0];
                    int in = s[1];
                    List<Tensor> owned = new ArrayList<>();
                    Tensor x = own(owned, backend.fromFloats(DType.F32, Shape.of(rows, in), random(rnd, rows * in, 1f), "x"));
                    List<Tensor> weights = new ArrayList<>();
                    List<Tensor> biases = new ArrayList<>();
                    List<Tensor> results = new ArrayList<>();
                    for (int j = 0; j < outs.length; j++) {
                        DType dtype = dtypes[j] == DType.Q8_0 && in % 32 != 0 ? DType.BF16 : dtypes[j];
                        weights.add(own(owned, backend.fromFloats(dtype, Shape.of(outs[j], in), random(rnd, outs[j] * in, 1f), "w" + j)));
                        biases.add(j % 3 == 0 ? own(owned, backend.fromFloats(DType.F32, Shape.of(outs[j]), random(rnd, outs[j], 1f), "b" + j))
                                : null);
                        results.add(own(owned, backend.allocate(DType.F32, Shape.of(rows, outs[j]), "out" + j)));
                    }
                    backend.linears(x, weights, biases, results);
                    for (int j = 0; j < outs.length; j++) {
                        try (Tensor alone = backend.allocate(DType.F32, Shape.of(rows, outs[j]), "alone")) {
                            backend.linear(x, weights.get(j), biases.get(j), alone);
                            assertThat(results.get(j).toFloatArray())
                                    .as("projection %d (%s [%d, %d]) of %d rows, %d worker(s), %d-bit vectors", j,
                                            weights.get(j).dtype(), outs[j], in, rows, threads, Vec.FS.vectorBitSize())
                                    .containsExactly(alone.toFloatArray());
                        }
                    }
                    owned.forEach(Tensor::close);
                }
                assertThat(backend.liveTensors()).isZero();
            }
        }
    }

    private static Tensor own(List<Tensor> owned, Tensor t) {
        owned.add(t);
        return t;
    }

    @Test
    void aNullBiasListMeansNoBiases() {
        Random rnd = new Random(3);
        try (Backend backend = new CpuBackendProvider().open(BackendOptions.withThreads(2));
             Tensor x = backend.fromFloats(DType.F32, Shape.of(2, 40), random(rnd, 80, 1f), "x");
             Tensor w0 = backend.fromFloats(DType.BF16, Shape.of(24, 40), random(rnd, 960, 1f), "w0");
             Tensor w1 = backend.fromFloats(DType.F32, Shape.of(9, 40), random(rnd, 360, 1f), "w1");
             Tensor o0 = backend.allocate(DType.F32, Shape.of(2, 24), "o0");
             Tensor o1 = backend.allocate(DType.F32, Shape.of(2, 9), "o1");
             Tensor a0 = backend.allocate(DType.F32, Shape.of(2, 24), "a0");
             Tensor a1 = backend.allocate(DType.F32, Shape.of(2, 9), "a1")) {
            backend.linears(x, List.of(w0, w1), null, List.of(o0, o1));
            backend.linears(x, List.of(w0, w1), Arrays.asList(null, null), List.of(a0, a1));
            assertThat(o0.toFloatArray()).containsExactly(a0.toFloatArray());
            assertThat(o1.toFloatArray()).containsExactly(a1.toFloatArray());
        }
    }
}
