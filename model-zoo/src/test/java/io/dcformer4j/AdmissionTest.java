package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.CancellationToken;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.StopReason;
import io.dcformer4j.generate.TokenListener;
import io.dcformer4j.model.CacheBudget;
import io.dcformer4j.model.CacheBudgetExceededException;
import io.dcformer4j.model.Session;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Admission under the model's cache budget on the tiny golden model: generations that do not fit yet wait for
 * others to finish and then produce exactly their solo outputs; one that can never fit is refused at once with
 * the sizes; a waiting one can be cancelled or times out. Every wait here is bounded; a generation that must
 * stay running while others queue holds still in its listener until the queue is seen (never a race on speed).
 */
@Tag("one-compiler-tier")
class AdmissionTest {
    private static final long WAIT_S = 60;
    @TempDir
    static Path tmp;
    static Path dir;
    static Backend backend;

    private static final List<String> PROMPTS = List.of("Mary has a pen.", "Tom", "x = 1;\ny = 2;", "The end", "abc",
            "Once upon");
    private static final GenerationConfig CONFIG = GenerationConfig.builder().maxNewTokens(30).stopOnSpecial(false).build();
    private static List<int[]> solo;
    /** The bytes one generation of PROMPTS/CONFIG reserves (all prompts fit in the same pages). */
    private static long perGeneration;

    @BeforeAll
    static void setUp() throws Exception {
        dir = TinyModelDir.create(tmp);
        backend = Backends.open("cpu", BackendOptions.withThreads(2));
        solo = new ArrayList<>();
        try (DCFormer model = DCFormer.load(dir, backend, EngineOptions.defaults().withBatching(false))) {
            for (String p : PROMPTS) {
                try (GenerationSession s = model.newSession()) {
                    solo.add(s.run(p, CONFIG, TokenListener.NONE, null).tokens());
                }
            }
            try (Session s = model.model().newSession()) {
                int longest = 0;
                int shortest = Integer.MAX_VALUE;
                for (String p : PROMPTS) {
                    longest = Math.max(longest, model.tokenizer().encode(p).length);
                    shortest = Math.min(shortest, model.tokenizer().encode(p).length);
                }
                perGeneration = s.cacheBytesFor(longest + CONFIG.maxNewTokens());
                assertThat(s.cacheBytesFor(shortest + CONFIG.maxNewTokens())).as("pages: the shortest needs as much")
                        .isEqualTo(perGeneration);
            }
        }
        assertThat(perGeneration).isPositive();
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static DCFormer model(long budget, Duration timeout) {
        return DCFormer.load(dir, backend, EngineOptions.defaults().withBatching(true).withCacheBudget(budget)
                .withAdmissionTimeout(timeout));
    }

    /** Polls {@code condition} for at most WAIT_S seconds. */
    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            Thread.sleep(2);
        }
    }

    /** A listener that holds its generation at its first token until {@code release} opens (bounded). */
    private static TokenListener holdUntil(CountDownLatch release) {
        return new TokenListener() {
            boolean held;

            @Override
            public void onToken(String piece, int token) {
                if (!held) {
                    held = true;
                    try {
                        if (!release.await(WAIT_S, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("not released within " + WAIT_S + " s");
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            }
        };
    }

    private static GenerationResult generate(DCFormer model, int i, TokenListener listener, CancellationToken cancel) {
        try (GenerationSession s = model.newSession()) {
            return s.run(PROMPTS.get(i), CONFIG, listener, cancel);
        }
    }

    @Test
    void generationsBeyondTheBudgetWaitTheirTurnAndProduceTheirSoloOutputs() throws Exception {
        int fit = 2;
        try (DCFormer model = model(fit * perGeneration, Duration.ofSeconds(WAIT_S))) {
            CacheBudget budget = model.model().cacheBudget();
            ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.size());
            try {
                CountDownLatch release = new CountDownLatch(1);
                List<Future<int[]>> futures = new ArrayList<>();
                // the first two take the whole budget and hold still until the other four are seen waiting
                for (int i = 0; i < fit; i++) {
                    int k = i;
                    futures.add(pool.submit(() -> generate(model, k, holdUntil(release), null).tokens()));
                }
                awaitTrue(() -> budget.inUse() == fit * perGeneration, "the first two are admitted");
                for (int i = fit; i < PROMPTS.size(); i++) {
                    int k = i;
                    futures.add(pool.submit(() -> generate(model, k, TokenListener.NONE, null).tokens()));
                }
                awaitTrue(() -> budget.waiting() == PROMPTS.size() - fit, "the others wait for cache budget");
                assertThat(budget.inUse()).as("nobody went over the budget").isEqualTo(fit * perGeneration);
                release.countDown();
                for (int i = 0; i < PROMPTS.size(); i++) {
                    assertThat(futures.get(i).get(WAIT_S, TimeUnit.SECONDS)).as("sequence %d vs alone", i)
                            .isEqualTo(solo.get(i));
                }
                assertThat(budget.admissionsWaited()).isEqualTo(PROMPTS.size() - fit);
                assertThat(budget.inUse()).as("sessions closed: nothing reserved").isZero();
            } finally {
                pool.shutdownNow();
                assertThat(pool.awaitTermination(WAIT_S, TimeUnit.SECONDS)).isTrue();
            }
        }
    }

    @Test
    void aGenerationThatCanNeverFitIsRefusedAtOnceWithTheSizes() {
        long budgetBytes = perGeneration - 1;
        try (DCFormer model = model(budgetBytes, Duration.ofSeconds(WAIT_S));
             GenerationSession s = model.newSession()) {
            assertThatThrownBy(() -> s.run(PROMPTS.get(0), CONFIG, TokenListener.NONE, null))
                    .isInstanceOf(CacheBudgetExceededException.class)
                    .hasMessageContaining("needs " + perGeneration + " bytes")
                    .hasMessageContaining("cache budget of " + budgetBytes + " bytes")
                    .hasMessageContaining("can never be admitted");
            assertThat(model.model().cacheBudget().waiting()).isZero();
            // a shorter generation fits and runs
            GenerationResult r = s.run(PROMPTS.get(1), GenerationConfig.builder().maxNewTokens(2).stopOnSpecial(false)
                    .build(), TokenListener.NONE, null);
            assertThat(r.tokens()).hasSize(2);
        }
    }

    @Test
    void aWaitingGenerationCanBeCancelledAndAnotherTimesOut() throws Exception {
        try (DCFormer model = model(perGeneration, Duration.ofMillis(300))) {
            CacheBudget budget = model.model().cacheBudget();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                CountDownLatch release = new CountDownLatch(1);
                Future<int[]> holder = pool.submit(() -> generate(model, 0, holdUntil(release), null).tokens());
                awaitTrue(() -> budget.inUse() == perGeneration, "the first is admitted");
                // with a short timeout the second is refused after waiting
                Future<GenerationResult> late = pool.submit(() -> generate(model, 1, TokenListener.NONE, null));
                assertThatThrownBy(() -> late.get(WAIT_S, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(CacheBudgetExceededException.class)
                        .hasMessageContaining("waited 300 ms for " + perGeneration + " bytes");
                assertThat(budget.waiting()).isZero();
            } finally {
                release(pool);
            }
        }
        try (DCFormer model = model(perGeneration, Duration.ofSeconds(WAIT_S))) {
            CacheBudget budget = model.model().cacheBudget();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                CountDownLatch release = new CountDownLatch(1);
                Future<int[]> holder = pool.submit(() -> generate(model, 0, holdUntil(release), null).tokens());
                awaitTrue(() -> budget.inUse() == perGeneration, "the first is admitted");
                CancellationToken cancel = new CancellationToken();
                Future<GenerationResult> waiting = pool.submit(() -> generate(model, 1, TokenListener.NONE, cancel));
                awaitTrue(() -> budget.waiting() == 1, "the second waits");
                cancel.cancel();
                GenerationResult r = waiting.get(WAIT_S, TimeUnit.SECONDS);
                assertThat(r.stopReason()).isEqualTo(StopReason.CANCELLED);
                assertThat(r.tokens()).isEmpty();
                assertThat(budget.waiting()).isZero();
                release.countDown();
                assertThat(holder.get(WAIT_S, TimeUnit.SECONDS)).as("the running one is unchanged").isEqualTo(solo.get(0));
                // the budget is free again: the next one runs
                assertThat(generate(model, 1, TokenListener.NONE, null).tokens()).isEqualTo(solo.get(1));
            } finally {
                release(pool);
            }
        }
    }

    private static void release(ExecutorService pool) throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(WAIT_S, TimeUnit.SECONDS)).isTrue();
    }
}
