package io.dcformer4j.benchmarks;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import java.util.concurrent.TimeUnit;
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
 * The fused attention of one layer for a T-token prompt, DCMHA against plain MHA at the same shape (the
 * {@code medium} preset's 16 heads of 64), on a global layer (window 0) and a local one (window 256).
 * Compare the two modes' times: the difference is the cost of compose.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
public class AttentionPrefillBenchmark {
    /** DCMHA or the plain-MHA baseline. */
    @Param({"DCMHA", "PLAIN_MHA"})
    public AttentionMode mode;
    /** Prompt length T. */
    @Param({"1024"})
    public int tokens;
    /** 0 for a global layer, else the local window. */
    @Param({"0", "256"})
    public int window;
    /** Heads N. */
    @Param({"16"})
    public int heads;
    /** Head size D. */
    @Param({"64"})
    public int headDim;
    /** Backend worker threads (0: all processors). */
    @Param({"0"})
    public int threads;
    /** Backend provider name. */
    @Param({"cpu"})
    public String backendName;

    private Backend backend;
    private AttentionSpec spec;
    private AttentionOperands ops;
    private KvCache cache;

    /** Allocates operands and a cache large enough for the prompt. */
    @Setup(Level.Trial)
    public void setUp() {
        backend = Fixtures.open(backendName, threads);
        spec = AttentionSpec.of(mode, heads, headDim, 2, window);
        ops = new AttentionOperands(backend, spec, tokens, 11);
        int capacity = window == 0 ? tokens : window;
        cache = backend.allocateKvCache(new KvCacheSpec(capacity, heads, headDim, 2, mode != AttentionMode.PLAIN_MHA));
    }

    /** Releases everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        ops.close();
        backend.close();
    }

    /** One prefill attention call from an empty cache. */
    @Benchmark
    public void prefill() {
        cache.reset();
        backend.attentionPrefill(ops.q, ops.k, ops.v, ops.dyn, cache, spec, ops.out);
    }
}
