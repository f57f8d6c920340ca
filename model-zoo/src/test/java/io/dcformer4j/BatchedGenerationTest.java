package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.CancellationToken;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.StopReason;
import io.dcformer4j.generate.TokenListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Continuous batching on the tiny golden model: concurrent generations on one model share decode steps and
 * still produce exactly what each produces alone (greedy and seeded sampling, per-sequence settings); a
 * cancelled sequence and one whose listener throws leave the others' outputs unchanged; sequences joining
 * mid-flight; the switch that turns batching off. Runs with one compiler tier (see the model-zoo pom): the
 * outputs are compared token for token with runs made earlier in the same JVM.
 */
@Tag("one-compiler-tier")
class BatchedGenerationTest {
    @TempDir
    static Path tmp;
    static Path dir;
    static Backend backend;

    private static final List<String> PROMPTS = List.of("Mary has a pen.", "Tom", "x = 1;\ny = 2;", "The end", "abc");
    private static final List<GenerationConfig> CONFIGS = List.of(
            GenerationConfig.builder().maxNewTokens(40).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(30).temperature(0.9).seed(1).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(45).temperature(1.2).topK(20).topP(0.9).seed(2).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(35).temperature(0.7).repetitionPenalty(1.3).seed(3).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(25).stopOnSpecial(false).build());

    private static List<int[]> solo;

    @BeforeAll
    static void setUp() throws Exception {
        dir = TinyModelDir.create(tmp);
        backend = Backends.open("cpu", BackendOptions.withThreads(2));
        solo = new ArrayList<>();
        try (DCFormer model = DCFormer.load(dir, backend, EngineOptions.defaults().withBatching(false))) {
            for (int i = 0; i < PROMPTS.size(); i++) {
                solo.add(generate(model, i, TokenListener.NONE, null).tokens());
            }
        }
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static GenerationResult generate(DCFormer model, int i, TokenListener listener, CancellationToken cancel) {
        try (GenerationSession s = model.newSession()) {
            return s.run(PROMPTS.get(i), CONFIGS.get(i), listener, cancel);
        }
    }

    private static DCFormer batched() {
        DCFormer model = DCFormer.load(dir, backend, EngineOptions.defaults().withBatching(true));
        assertThat(model.scheduler()).isNotNull();
        return model;
    }

    @Test
    void oneSequenceThroughTheSchedulerEqualsItsUnbatchedRun() {
        try (DCFormer model = batched()) {
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertThat(generate(model, i, TokenListener.NONE, null).tokens()).as("sequence %d", i).isEqualTo(solo.get(i));
            }
        }
    }

    @Test
    void fourThreadsBatchedProduceTheirSoloOutputs() throws Exception {
        try (DCFormer model = batched()) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<int[]>> futures = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    int k = i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        return generate(model, k, TokenListener.NONE, null).tokens();
                    }));
                }
                for (int i = 0; i < 4; i++) {
                    assertThat(futures.get(i).get(60, TimeUnit.SECONDS)).as("sequence %d batched vs alone", i).isEqualTo(solo.get(i));
                }
            } finally {
                pool.shutdown();
            }
            DecodeStatistics stats = model.decodeStatistics();
            assertThat(stats.steps()).as("decode steps").isPositive();
            assertThat(stats.rows()).as("decode rows: the steps carried several sequences").isGreaterThan(stats.steps());
            assertThat(stats.meanRows()).isEqualTo((double) stats.rows() / stats.steps());
            assertThat(stats.since(new DecodeStatistics(1, 1))).isEqualTo(new DecodeStatistics(stats.steps() - 1, stats.rows() - 1));
        }
    }

    @Test
    void aCancelledAndAFailingSequenceLeaveTheOthersUnchanged() throws Exception {
        try (DCFormer model = batched()) {
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CyclicBarrier start = new CyclicBarrier(4);
                CancellationToken cancel = new CancellationToken();
                int[] seen = new int[2];
                TokenListener cancelling = (piece, token) -> {
                    if (token >= 0 && ++seen[0] == 3) {
                        cancel.cancel();
                    }
                };
                TokenListener failing = (piece, token) -> {
                    if (token >= 0 && ++seen[1] == 5) {
                        throw new IllegalStateException("listener failed on purpose");
                    }
                };
                Future<GenerationResult> cancelled = pool.submit(() -> {
                    start.await();
                    return generate(model, 0, cancelling, cancel);
                });
                Future<GenerationResult> failed = pool.submit(() -> {
                    start.await();
                    return generate(model, 1, failing, null);
                });
                Future<GenerationResult> c = pool.submit(() -> {
                    start.await();
                    return generate(model, 2, TokenListener.NONE, null);
                });
                Future<GenerationResult> d = pool.submit(() -> {
                    start.await();
                    return generate(model, 3, TokenListener.NONE, null);
                });
                assertThat(c.get(60, TimeUnit.SECONDS).tokens()).isEqualTo(solo.get(2));
                assertThat(d.get(60, TimeUnit.SECONDS).tokens()).isEqualTo(solo.get(3));
                GenerationResult r = cancelled.get(60, TimeUnit.SECONDS);
                assertThat(r.stopReason()).isEqualTo(StopReason.CANCELLED);
                assertThat(r.tokens()).isEqualTo(Arrays.copyOf(solo.get(0), 3));
                assertThatThrownBy(() -> failed.get(60, TimeUnit.SECONDS)).hasRootCauseMessage("listener failed on purpose");
            } finally {
                pool.shutdown();
            }
            // the model keeps serving afterwards
            assertThat(generate(model, 4, TokenListener.NONE, null).tokens()).isEqualTo(solo.get(4));
        }
    }

    @Test
    void sequencesJoiningMidFlightKeepEveryOutput() throws Exception {
        try (DCFormer model = batched()) {
            ExecutorService pool = Executors.newFixedThreadPool(5);
            try {
                CountDownLatch tenTokens = new CountDownLatch(1);
                int[] count = new int[1];
                TokenListener firstListener = (piece, token) -> {
                    if (token >= 0 && ++count[0] == 10) {
                        tenTokens.countDown();
                    }
                };
                List<Future<GenerationResult>> futures = new ArrayList<>();
                futures.add(pool.submit(() -> generate(model, 0, firstListener, null)));
                futures.add(pool.submit(() -> generate(model, 2, TokenListener.NONE, null)));
                assertThat(tenTokens.await(60, TimeUnit.SECONDS)).isTrue();
                futures.add(pool.submit(() -> generate(model, 1, TokenListener.NONE, null)));
                futures.add(pool.submit(() -> generate(model, 3, TokenListener.NONE, null)));
                futures.add(pool.submit(() -> generate(model, 4, TokenListener.NONE, null)));
                int[] order = {0, 2, 1, 3, 4};
                for (int i = 0; i < order.length; i++) {
                    assertThat(futures.get(i).get(60, TimeUnit.SECONDS).tokens()).as("sequence %d", order[i])
                            .isEqualTo(solo.get(order[i]));
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void batchingCanBeSwitchedOff() {
        try (DCFormer model = DCFormer.load(dir, backend, EngineOptions.defaults().withBatching(false))) {
            assertThat(model.options().batching()).isFalse();
            assertThat(model.scheduler()).isNull();
            assertThat(generate(model, 1, TokenListener.NONE, null).tokens()).isEqualTo(solo.get(1));
            assertThat(model.decodeStatistics()).as("no scheduler, no batched steps").isEqualTo(new DecodeStatistics(0, 0));
        }
        String before = System.getProperty(EngineOptions.BATCHING_PROPERTY);
        try {
            System.setProperty(EngineOptions.BATCHING_PROPERTY, "false");
            assertThat(EngineOptions.defaults().batching()).isFalse();
            try (DCFormer model = DCFormer.load(dir, backend)) {
                assertThat(model.scheduler()).as("-D%s=false", EngineOptions.BATCHING_PROPERTY).isNull();
            }
            System.setProperty(EngineOptions.BATCHING_PROPERTY, "true");
            assertThat(EngineOptions.defaults().batching()).isTrue();
            System.setProperty(EngineOptions.BATCHING_PROPERTY, "maybe");
            assertThatThrownBy(EngineOptions::defaults).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(EngineOptions.BATCHING_PROPERTY);
        } finally {
            if (before == null) {
                System.clearProperty(EngineOptions.BATCHING_PROPERTY);
            } else {
                System.setProperty(EngineOptions.BATCHING_PROPERTY, before);
            }
        }
        System.clearProperty(EngineOptions.BATCHING_PROPERTY);
        assertThat(EngineOptions.defaults().batching()).as("on by default").isTrue();
        assertThatThrownBy(() -> EngineOptions.defaults().withMaxBatch(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
