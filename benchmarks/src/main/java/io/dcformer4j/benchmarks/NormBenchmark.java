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
 * Row-wise memory-bound kernels: RMSNorm over [T, E] (block norm) and softmax over [T, V]. The
 * {@code bytes} counter reports bytes read plus written per second (each F32 element once each way).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
public class NormBenchmark {
    /** Rows T. */
    @Param({"512"})
    public int rows;
    /** Width of the RMSNorm rows (E). */
    @Param({"1024"})
    public int dim;
    /** Width of the softmax rows (V). */
    @Param({"32000"})
    public int vocab;
    /** Backend worker threads (0: all processors). */
    @Param({"0"})
    public int threads;
    /** Backend provider name. */
    @Param({"cpu"})
    public String backendName;

    private Backend backend;
    private Tensor x;
    private Tensor gain;
    private Tensor normed;
    private Tensor logits;
    private Tensor probs;

    /** Bytes moved, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Traffic {
        /** Bytes read plus written. */
        public long bytes;
    }

    /** Allocates the operands. */
    @Setup(Level.Trial)
    public void setUp() {
        backend = Fixtures.open(backendName, threads);
        x = Fixtures.random(backend, DType.F32, Shape.of(rows, dim), 1, 1, "x"); // [T, E]
        gain = Fixtures.random(backend, DType.F32, Shape.of(dim), 1, 2, "gain"); // [E]
        normed = backend.allocate(DType.F32, Shape.of(rows, dim), "normed"); // [T, E]
        logits = Fixtures.random(backend, DType.F32, Shape.of(rows, vocab), 5, 3, "logits"); // [T, V]
        probs = backend.allocate(DType.F32, Shape.of(rows, vocab), "probs"); // [T, V]
    }

    /** Releases everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        probs.close();
        logits.close();
        normed.close();
        gain.close();
        x.close();
        backend.close();
    }

    /** Block RMSNorm of every row. */
    @Benchmark
    public void rmsNorm(Traffic t) {
        backend.rmsNorm(x, gain, 1e-6f, normed);
        t.bytes += 2L * 4 * rows * dim;
    }

    /** Softmax of every row. */
    @Benchmark
    public void softmax(Traffic t) {
        backend.softmax(logits, probs);
        t.bytes += 2L * 4 * rows * vocab;
    }
}
