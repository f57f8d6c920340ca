package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Session bookkeeping: limits, input checks, reuse, allocation-free decode, several threads on one model. */
class SessionTest {
    private static final ModelConfig CONFIG = ModelConfig.parse("{\"model_type\": \"dcformer\", \"vocab_size\": 50, "
            + "\"dim\": 32, \"n_head\": 4, \"n_layer\": 2, \"window_size\": 4, \"use_qk_norm\": true, "
            + "\"intermediate_size\": 48, \"block_size\": 24}");

    private static Backend backend;
    private static MemoryWeightSource weights;
    private static DCFormerModel model;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu");
        weights = RandomWeights.generate(CONFIG, DType.F32, 9);
        model = DCFormerModel.create(CONFIG, weights, backend);
    }

    @AfterAll
    static void close() {
        model.close();
        weights.close();
        backend.close();
    }

    @Test
    void goingPastBlockSizeIsAClearError() {
        try (Session s = model.newSession()) {
            s.prefill(ConsistencyTest.tokens(24, 50, 1));
            assertThatThrownBy(() -> s.decode(1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("position 24").hasMessageContaining("block_size 24");
            assertThat(s.position()).isEqualTo(24);
        }
        try (Session s = model.newSession(10)) {
            assertThatThrownBy(() -> s.prefill(new int[11])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("maximum context of 10");
        }
        assertThatThrownBy(() -> model.newSession(25)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("25");
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreNamedWithTheirPosition() {
        try (Session s = model.newSession()) {
            s.prefill(new int[] {1, 2});
            assertThatThrownBy(() -> s.prefill(new int[] {3, 50, 4})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("token id 50 at position 3").hasMessageContaining("[0, 50)");
            assertThatThrownBy(() -> s.decode(-1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("token id -1 at position 2");
            assertThatThrownBy(() -> s.prefill(new int[0])).isInstanceOf(IllegalArgumentException.class);
            assertThat(s.position()).isEqualTo(2);
            s.decode(5);
            assertThat(s.position()).isEqualTo(3);
        }
    }

    @Test
    void decodeAllocatesNoTensors() {
        try (Session s = model.newSession()) {
            s.prefill(new int[] {1, 2, 3});
            s.decode(4);
            long live = backend.liveTensors();
            for (int t = 0; t < 10; t++) {
                s.decode(t);
            }
            assertThat(backend.liveTensors()).isEqualTo(live);
        }
    }

    @Test
    void closedSessionRefusesWork() {
        Session s = model.newSession();
        s.close();
        assertThatThrownBy(() -> s.decode(1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(s::close).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void sessionsOnSeveralThreadsMatchASequentialRun() throws Exception {
        int sessions = 4;
        List<int[]> inputs = new ArrayList<>();
        List<float[][]> expected = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            inputs.add(ConsistencyTest.tokens(20, 50, 100 + i));
            try (Session s = model.newSession()) {
                expected.add(run(s, inputs.get(i)));
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<float[][]>> results = new ArrayList<>();
            for (int i = 0; i < sessions; i++) {
                int[] in = inputs.get(i);
                results.add(pool.submit(() -> {
                    try (Session s = model.newSession()) {
                        return run(s, in);
                    }
                }));
            }
            for (int i = 0; i < sessions; i++) {
                assertThat(TestData.maxAbs(TestData.flatten(results.get(i).get()), TestData.flatten(expected.get(i))))
                        // not bit-exact: interpreted and JIT-compiled vector code round exp and sums differently
                        .as("session %d", i).isLessThan(1e-4);
            }
        } finally {
            pool.shutdown();
        }
    }

    private static float[][] run(Session s, int[] tokens) {
        float[][] rows = new float[tokens.length][];
        System.arraycopy(s.prefill(java.util.Arrays.copyOf(tokens, 7)), 0, rows, 0, 7);
        for (int t = 7; t < tokens.length; t++) {
            rows[t] = s.decode(tokens[t]);
        }
        return rows;
    }
}
