package io.dcformer4j.backend.cpu;

import static io.dcformer4j.backend.cpu.TestData.assertClose;
import static io.dcformer4j.backend.cpu.TestData.random;
import static io.dcformer4j.backend.cpu.TestData.toDouble;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Q8_0 weights on the CPU backend against their scalar twin: the vector widening gives the very floats
 * {@link Q8_0Format#get} gives, and {@code linear} (the row-by-row GEMV up to 64 rows, the packed GEMM above)
 * matches a double-precision product with the dequantized weights (row stability: {@link RowStabilityTest}). Tagged {@code vector-widths}: the pom runs
 * it again with the vectors forced to 256 and 128 bits ({@value VectorProbe#BITS_PROPERTY}).
 */
@Tag("vector-widths")
class Q8LinearTest {
    /** A width forced above this CPU's (a 256-bit run on a 128-bit machine) cannot be tested here: skipped. */
    @BeforeEach
    void forcedWidthFitsThisCpu() {
        TestData.assumeForcedWidthFitsThisCpu();
    }

    @Test
    void vectorWideningEqualsTheScalarTwin() {
        Random rnd = new Random(5);
        for (int n : new int[] {32, 64, 96, 2560}) {
            float[] v = random(rnd, n, 3f);
            v[rnd.nextInt(n)] = 0f;
            MemorySegment blocks = MemorySegment.ofArray(Q8_0Format.quantize(v));
            float[] vector = new float[n];
            float[] scalar = new float[n];
            float[] twin = new float[n];
            Q8Loops.widen(blocks, 0, vector, n);
            Q8Loops.widenScalar(blocks, 0, scalar, n);
            Q8_0Format.dequantize(blocks, 0, 0, twin, 0, n);
            assertThat(vector).as("%d values, %d-bit vectors", n, Vec.FS.vectorBitSize()).containsExactly(twin);
            assertThat(scalar).containsExactly(twin);
        }
    }

    @Test
    void vectorWidthIsTheForcedOne() {
        String forced = System.getProperty(VectorProbe.BITS_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            assertThat(Vec.FS.vectorBitSize()).isEqualTo(Integer.parseInt(forced.trim()));
        }
    }

    @Test
    void linearMatchesTheDequantizedProduct() {
        Random rnd = new Random(17);
        int[][] shapes = {{1, 32, 1}, {3, 32, 7}, {17, 96, 33}, {64, 96, 65}, {65, 96, 17}, {1, 2560, 37}, {200, 416, 131},
            {70, 2560, 45}};
        try (Backend backend = new CpuBackendProvider().open(BackendOptions.withThreads(2));
             Arena arena = Arena.ofShared()) {
            for (int[] s : shapes) {
                int t = s[0];
                int in = s[1];
                int out = s[2];
                float[] x = random(rnd, t * in, 1f);
                float[] raw = random(rnd, out * in, 1f);
                float[] bias = random(rnd, out, 1f);
                byte[] blocks = Q8_0Format.quantize(raw);
                MemorySegment seg = arena.allocate(blocks.length, 2);
                seg.copyFrom(MemorySegment.ofArray(blocks));
                double[] expected = Oracle.linear(toDouble(x), toDouble(Q8_0Format.dequantize(blocks)), toDouble(bias), t, in, out);
                try (Tensor xt = backend.fromFloats(DType.F32, Shape.of(t, in), x, "x");
                     Tensor mapped = backend.weights(DType.Q8_0, Shape.of(out, in), seg, "w");
                     Tensor quantized = backend.fromFloats(DType.Q8_0, Shape.of(out, in), raw, "w2");
                     Tensor bt = backend.fromFloats(DType.F32, Shape.of(out), bias, "bias");
                     Tensor ot = backend.allocate(DType.F32, Shape.of(t, out), "out");
                     Tensor ot2 = backend.allocate(DType.F32, Shape.of(t, out), "out2")) {
                    backend.linear(xt, mapped, bt, ot);
                    backend.linear(xt, quantized, bt, ot2);
                    String what = "linear Q8_0 " + t + "x" + in + "->" + out + " (" + Vec.FS.vectorBitSize() + "-bit)";
                    assertClose(what, ot.toFloatArray(), expected, 1e-5 * Math.sqrt(in) * 4, 1e-5);
                    assertThat(ot2.toFloatArray()).as(what + ": fromFloats quantizes as the reference does")
                            .containsExactly(ot.toFloatArray());
                }
            }
        }
    }

}
