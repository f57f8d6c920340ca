package io.dcformer4j.backend.cpu;

import static io.dcformer4j.backend.cpu.TestData.random;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The register-blocked input-major projection of the decode dynamic weights against the sum it replaces
 * (one weight row at a time into the accumulators): the same floats, bit for bit, for every weight dtype, for
 * widths that are whole blocks, whole vectors and neither, and for a part of the inputs that starts inside the
 * matrix.
 */
class DynamicWeightsKernelTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void blockedProjectionEqualsRowByRowSums(DType dtype) {
        int l = Vec.L;
        int[] widths = {1, l - 1, l, 3 * l + 5, 4 * l, 4 * l + 3, 9 * l, 320};
        Random rnd = new Random(7 + dtype.ordinal());
        try (CpuBackend b = (CpuBackend) new CpuBackendProvider().open(BackendOptions.withThreads(1));
             Arena arena = Arena.ofConfined()) {
            for (int cols : widths) {
                int e = 37;
                try (CpuTensor w = (CpuTensor) b.fromFloats(dtype, Shape.of(e, cols), random(rnd, e * cols, 1f), "w")) {
                    float[] x = random(rnd, e, 1f);
                    MemorySegment a = arena.allocate(4L * e, 64);
                    MemorySegment.copy(x, 0, a, CpuTensor.F32, 0, e);
                    int from = 5;
                    int to = 31;
                    int at = 3;
                    float[] start = random(rnd, at + cols, 1f);
                    float[] expected = start.clone();
                    for (int i = from; i < to; i++) {
                        DynamicWeightsKernel.axpyInto(x[i], dtype, w.seg(), w.offset, (long) i * cols, expected, at, cols);
                    }
                    float[] actual = start.clone();
                    DynamicWeightsKernel.accumulate(a, 0, from, to, w, cols, actual, at);
                    assertThat(actual).as("%s, %d columns", dtype, cols).containsExactly(expected);
                }
            }
        }
    }
}
