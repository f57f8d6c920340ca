package io.dcformer4j.benchmarks;

import io.dcformer4j.api.Backend;
import io.dcformer4j.bench.BenchModel;
import io.dcformer4j.bench.BenchPreset;
import io.dcformer4j.bench.DCFormerBenchModels;
import java.util.SplittableRandom;
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
 * The whole model on a preset with random BF16 weights (the {@code bench} command's models): one prefill of
 * T tokens from an empty sequence, and one decode step after a context of C tokens, for DCFormer++
 * ({@code dcmha=true}) and its plain-MHA baseline.
 */
public class EndToEndBenchmark {

    /** The model and its prompt, shared by both benchmarks. */
    @State(Scope.Benchmark)
    public static class Model {
        /** Preset name. */
        @Param({"small"})
        public String preset;
        /** DCFormer++ (true) or the plain-MHA baseline. */
        @Param({"true", "false"})
        public boolean dcmha;
        /** Backend worker threads (0: all processors). */
        @Param({"0"})
        public int threads;
        /** Backend provider name. */
        @Param({"cpu"})
        public String backendName;

        Backend backend;
        BenchModel model;
        int vocab;

        /** Generates the weights and binds the model. */
        @Setup(Level.Trial)
        public void setUp() {
            BenchPreset p = BenchPreset.byName(preset);
            vocab = p.vocab();
            backend = Fixtures.open(backendName, threads);
            model = new DCFormerBenchModels().open(p, dcmha, backend, 42);
        }

        /** Releases the model and the backend. */
        @TearDown(Level.Trial)
        public void tearDown() {
            model.close();
            backend.close();
        }
    }

    /** Prompt tokens for prefill. */
    @State(Scope.Benchmark)
    public static class Prompt {
        /** Prompt length T. */
        @Param({"512"})
        public int tokens;
        int[] ids;

        /** Draws the token ids. */
        @Setup(Level.Trial)
        public void setUp(Model m) {
            ids = new SplittableRandom(7).ints(tokens, 0, m.vocab).toArray();
        }
    }

    /** A sequence prefilled to C tokens before every measured batch of decode steps. */
    @State(Scope.Benchmark)
    public static class Context {
        /** Context length C before the timed steps. */
        @Param({"512"})
        public int context;
        BenchModel.Sequence sequence;
        private final SplittableRandom rnd = new SplittableRandom(9);
        private int vocab;

        /** Starts a fresh sequence at exactly C positions. */
        @Setup(Level.Iteration)
        public void setUp(Model m) {
            if (sequence != null) {
                sequence.close();
            }
            vocab = m.vocab;
            sequence = m.model.newSequence();
            sequence.prefill(rnd.ints(context, 0, vocab).toArray());
        }

        /** Releases the sequence. */
        @TearDown(Level.Trial)
        public void tearDown() {
            sequence.close();
        }

        int nextToken() {
            return rnd.nextInt(vocab);
        }
    }

    /** One prefill of T tokens from an empty sequence (last position's logits only). */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 5, time = 2)
    @Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
    public void prefill(Model m, Prompt p) {
        try (BenchModel.Sequence s = m.model.newSequence()) {
            s.prefill(p.ids);
        }
    }

    /** A batch of 32 decode steps after C tokens; the score is the batch's time. */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2, batchSize = 32)
    @Measurement(iterations = 5, batchSize = 32)
    @Fork(value = 1, jvmArgsAppend = {Fixtures.ADD_VECTOR, Fixtures.NATIVE})
    public void decode(Model m, Context c) {
        c.sequence.decode(c.nextToken());
    }
}
