package io.dcformer4j.benchmarks;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The decode pattern: {@code linear} with one activation row, y = W x. The weight matrix is larger than the
 * last-level cache share, so the rate is a memory-bandwidth figure; the {@code weightBytes} counter reports
 * it directly in bytes/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
public class GemvBenchmark {
    /** Weight storage type. */
    @Param({"F32", "BF16", "F16"})
    public DType dtype;
    /** Weight matrix [rows x cols] (out x in). */
    @Param({"16384x4096"})
    public String matrix;
    /** Backend worker threads (0: all processors). */
    @Param({"0"})
    public int threads;
    /** Backend provider name. */
    @Param({"cpu"})
    public String backendName;

    private Backend backend;
    private Tensor x;
    private Tensor w;
    private Tensor y;
    private long weightBytes;

    /** Weight bytes streamed, reported as bytes per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Traffic {
        /** Bytes of weights read. */
        public long weightBytes;
    }

    /** Allocates the operands. */
    @Setup(Level.Trial)
    public void setUp() {
        int[] d = Fixtures.dims(matrix);
        backend = Fixtures.open(backendName, threads);
        x = Fixtures.random(backend, DType.F32, Shape.of(1, d[1]), 1, 1, "x"); // [1, in]
        w = Fixtures.random(backend, dtype, Shape.of(d[0], d[1]), 0.05, 2, "w"); // [out, in]
        y = backend.allocate(DType.F32, Shape.of(1, d[0]), "y"); // [1, out]
        weightBytes = (long) d[0] * d[1] * dtype.byteSize();
    }

    /** Releases everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        y.close();
        w.close();
        x.close();
        backend.close();
    }

    /** One matrix-vector product. */
    @Benchmark
    public void gemv(Traffic t) {
        backend.linear(x, w, null, y);
        t.weightBytes += weightBytes;
    }
}
