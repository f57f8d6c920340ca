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
 * One-token fused attention after a context of C tokens on a global layer, DCMHA against plain MHA. Each
 * measured iteration starts from a cache refilled to exactly C positions and runs {@value #STEPS} decode
 * steps (single-shot batches), so the context stays within C .. C+{@value #STEPS}; the score is the time of
 * the batch.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, batchSize = AttentionDecodeBenchmark.STEPS)
@Measurement(iterations = 10, batchSize = AttentionDecodeBenchmark.STEPS)
@Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
public class AttentionDecodeBenchmark {
    /** Decode steps per measured batch. */
    static final int STEPS = 64;

    /** DCMHA or the plain-MHA baseline. */
    @Param({"DCMHA", "PLAIN_MHA"})
    public AttentionMode mode;
    /** Context length C before the timed steps. */
    @Param({"512", "2048"})
    public int context;
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
    private AttentionOperands prompt;
    private AttentionOperands step;
    private KvCache cache;

    /** Allocates operands and a cache for the context plus the steps. */
    @Setup(Level.Trial)
    public void setUp() {
        backend = Fixtures.open(backendName, threads);
        spec = AttentionSpec.of(mode, heads, headDim, 2, 0);
        prompt = new AttentionOperands(backend, spec, context, 21);
        step = new AttentionOperands(backend, spec, 1, 31);
        cache = backend.allocateKvCache(new KvCacheSpec(context + STEPS, heads, headDim, 2, mode != AttentionMode.PLAIN_MHA));
    }

    /** Refills the cache to exactly {@link #context} positions. */
    @Setup(Level.Iteration)
    public void refill() {
        cache.reset();
        backend.attentionPrefill(prompt.q, prompt.k, prompt.v, prompt.dyn, cache, spec, prompt.out);
    }

    /** Releases everything. */
    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        step.close();
        prompt.close();
        backend.close();
    }

    /** One decode step (attending to the context and appending one position). */
    @Benchmark
    public void decode() {
        backend.attentionDecode(step.q, step.k, step.v, step.dyn, cache, spec, step.out);
    }
}
