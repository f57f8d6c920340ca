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
 * The prefill pattern: {@code linear} over T activation rows, out[M, N] = x[M, K] · w[N, K]ᵀ. The
 * {@code flops} counter reports FLOP/s (2·M·N·K per call). Default shapes are the {@code medium} preset's
 * q/k/v, output, FFN up and FFN down projections at T = 512.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
public class GemmBenchmark {
    /** M x N x K. */
    @Param({"512x3072x1024", "512x1024x1024", "512x2816x1024", "512x1024x2816"})
    public String shape;
    /** Weight storage type. */
    @Param({"F32", "BF16"})
    public DType dtype;
    /** Backend worker threads (0: all processors). */
    @Param({"0"})
    public int threads;
    /** Backend provider name. */
    @Param({"cpu"})
    public String backendName;

    private Backend backend;
    private Tensor x;
    private Tensor w;
    private Tensor out;
    private long flops;

    /** Floating-point operations done, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Work {
        /** FLOPs (one multiply-add = 2). */
        public long flops;
    }

    /** Allocates the operands. */
    @Setup(Level.Trial)
    public void setUp() {
        int[] d = Fixtures.dims(shape);
        backend = Fixtures.open(backendName, threads);
        x = Fixtures.random(backend, DType.F32, Shape.of(d[0], d[2]), 1, 1, "x"); // [M, K]
        w = Fixtures.random(backend, dtype, Shape.of(d[1], d[2]), 0.05, 2, "w"); // [N, K]
        out = backend.allocate(DType.F32, Shape.of(d[0], d[1]), "out"); // [M, N]
        flops = 2L * d[0] * d[1] * d[2];
    }

    /** Releases everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        out.close();
        w.close();
        x.close();
        backend.close();
    }

    /** One matrix product. */
    @Benchmark
    public void gemm(Work work) {
        backend.linear(x, w, null, out);
        work.flops += flops;
    }
}
