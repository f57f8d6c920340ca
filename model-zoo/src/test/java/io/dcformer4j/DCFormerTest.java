package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.StopReason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedding façade on the tiny golden model. */
class DCFormerTest {
    @TempDir
    static Path tmp;
    static Path dir;
    static Backend backend;

    @BeforeAll
    static void setUp() throws Exception {
        dir = TinyModelDir.create(tmp);
        backend = Backends.open("cpu", BackendOptions.withThreads(2));
    }

    @AfterAll
    static void tearDown() {
        backend.close();
    }

    private static final List<GenerationConfig> CONFIGS = List.of(
            GenerationConfig.builder().maxNewTokens(12).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(12).temperature(0.9).seed(1).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(12).temperature(1.2).topK(20).topP(0.9).seed(2).stopOnSpecial(false).build(),
            GenerationConfig.builder().maxNewTokens(12).temperature(0.7).repetitionPenalty(1.3).seed(3).stopOnSpecial(false).build());
    private static final List<String> PROMPTS = List.of("Mary has a pen.", "Tom", "x = 1;\ny = 2;", "The end");

    @Test
    void concurrentSessionsMatchTheirSingleThreadedRuns() throws Exception {
        try (DCFormer model = DCFormer.load(dir, backend)) {
            List<String> sequential = new ArrayList<>();
            for (int i = 0; i < PROMPTS.size(); i++) {
                try (GenerationSession s = model.newSession()) {
                    sequential.add(s.generate(PROMPTS.get(i), CONFIGS.get(i)));
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(PROMPTS.size());
            try {
                for (int round = 0; round < 2; round++) {
                    List<Future<String>> futures = new ArrayList<>();
                    for (int i = 0; i < PROMPTS.size(); i++) {
                        int k = i;
                        futures.add(pool.submit(() -> {
                            try (GenerationSession s = model.newSession()) {
                                return s.generate(PROMPTS.get(k), CONFIGS.get(k));
                            }
                        }));
                    }
                    for (int i = 0; i < PROMPTS.size(); i++) {
                        assertThat(futures.get(i).get()).as("session %d", i).isEqualTo(sequential.get(i));
                    }
                }
            } finally {
                pool.shutdown();
            }
            assertThat(sequential.get(0)).isNotEmpty();
        }
    }

    @Test
    void streamingPiecesMakeTheText() {
        try (DCFormer model = DCFormer.load(dir, backend); GenerationSession s = model.newSession()) {
            StringBuilder streamed = new StringBuilder();
            String text = s.generate("abc", GenerationConfig.builder().maxNewTokens(8).stopOnSpecial(false).build(),
                    (piece, token) -> streamed.append(piece));
            assertThat(streamed.toString()).isEqualTo(text);
        }
    }

    @Test
    void aSessionContinuesItsText() {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(5).stopOnSpecial(false).build();
        try (DCFormer model = DCFormer.load(dir, backend); GenerationSession s = model.newSession();
             GenerationSession whole = model.newSession()) {
            GenerationResult first = s.run("ab", cfg, null, null);
            GenerationResult second = s.run("cd", cfg, null, null);
            // The same text fed in one go gives the same continuation.
            int[] prompt = concat(model.tokenizer().encode("ab"), first.tokens(), model.tokenizer().encode("cd"));
            GenerationResult direct = whole.run(prompt, cfg, null, null);
            assertThat(second.text()).isEqualTo(direct.text());
            assertThat(s.position()).isEqualTo(prompt.length + 4);
            s.reset();
            assertThat(s.position()).isZero();
        }
    }

    @Test
    void aFailedCallStartsTheNextOneFromAnEmptyText() {
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(6).stopOnSpecial(false).build();
        try (DCFormer model = DCFormer.load(dir, backend); GenerationSession s = model.newSession();
             GenerationSession fresh = model.newSession()) {
            assertThatThrownBy(() -> s.generate("ab", cfg, (piece, token) -> {
                throw new IllegalStateException("listener failed");
            })).hasMessage("listener failed");
            assertThat(s.position()).isZero();
            assertThat(s.generate("cd", cfg)).isEqualTo(fresh.generate("cd", cfg));
        }
    }

    @Test
    void cancelStopsAGeneration() {
        try (DCFormer model = DCFormer.load(dir, backend); GenerationSession s = model.newSession()) {
            GenerationResult r = s.run("ab", GenerationConfig.builder().maxNewTokens(40).stopOnSpecial(false).build(),
                    (piece, token) -> {
                        Thread t = new Thread(s::cancel);
                        t.start();
                        try {
                            t.join();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }, null);
            assertThat(r.stopReason()).isEqualTo(StopReason.CANCELLED);
            assertThat(r.tokens()).hasSize(1);
        }
    }

    @Test
    void closedModelRefusesUse() {
        DCFormer model = DCFormer.load(dir, backend);
        GenerationSession s = model.newSession();
        model.close();
        assertThatThrownBy(model::newSession).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(model::tokenizer).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        assertThatThrownBy(() -> s.generate("a", GenerationConfig.greedy(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        model.close();
    }

    @Test
    void progressIsReportedPerTensor() {
        List<Long> done = new ArrayList<>();
        long[] total = new long[1];
        try (DCFormer model = DCFormer.load(dir, backend, (name, d, t) -> {
            done.add(d);
            total[0] = t;
        })) {
            assertThat(done).isNotEmpty().isSorted();
            assertThat(done.getLast()).isLessThanOrEqualTo(total[0]).isGreaterThan(total[0] / 2);
        }
    }

    @Test
    void missingDirectoryOrTokenizerIsExplained() throws Exception {
        assertThatThrownBy(() -> DCFormer.load(tmp.resolve("nope"), backend)).hasMessageContaining("nope");
        Path noTok = Files.createDirectories(tmp.resolve("notok"));
        Files.copy(dir.resolve("config.json"), noTok.resolve("config.json"));
        Files.copy(dir.resolve("model.safetensors"), noTok.resolve("model.safetensors"));
        try (DCFormer model = DCFormer.load(noTok, backend)) {
            assertThatThrownBy(model::tokenizer).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("tokenizer.json");
        }
    }

    @Test
    void promptIdsOutsideTheModelVocabularyAreExplained() throws Exception {
        Path big = Files.createDirectories(tmp.resolve("bigtok"));
        Files.copy(dir.resolve("config.json"), big.resolve("config.json"));
        Files.copy(dir.resolve("model.safetensors"), big.resolve("model.safetensors"));
        var json = io.dcformer4j.tokenizer.TinyTokenizers.ascii97();
        json.withArray("added_tokens").addObject().put("id", 97).put("content", "   ").put("normalized", true);
        io.dcformer4j.tokenizer.TinyTokenizers.write(json, big.resolve("tokenizer.json"));
        try (DCFormer model = DCFormer.load(big, backend); GenerationSession s = model.newSession()) {
            assertThatThrownBy(() -> s.generate("a   b", GenerationConfig.greedy(2)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("id 97")
                    .hasMessageContaining("[0, 97)");
        }
    }

    private static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) {
            n += p.length;
        }
        int[] out = new int[n];
        int o = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
