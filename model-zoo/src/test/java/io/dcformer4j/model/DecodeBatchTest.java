package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.CpuBackendFixture;
import io.dcformer4j.api.DType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A batched decode step gives every session exactly (bit for bit) the logits of its own decode, for every
 * family and variant, sessions at different positions (rings wrapped and not), sessions whose local layers
 * run as global ones (a context shorter than the window) in the same step, BF16 weights, and a batch large
 * enough that the FFN rows are not whole vectors of the batch. Runs with one compiler tier (see the
 * model-zoo pom).
 */
@Tag("one-compiler-tier")
class DecodeBatchTest {
    private static final String BASE = "\"vocab_size\": 61, \"dim\": 32, \"n_head\": 4, \"block_size\": 48, "
            + "\"norm_eps\": 1e-6, \"rope_base\": 10000, ";
    private static final int STEPS = 4;

    @RegisterExtension
    static final CpuBackendFixture CPU = new CpuBackendFixture();

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.dcformer4j.model.ConsistencyTest#variants")
    void batchedStepEqualsEachSessionsDecode(String name, String fields) {
        ModelConfig c = ModelConfig.parse("{" + BASE + fields + "}");
        int[] prompts = {1, 3, 9, 20, 33, 2};
        int[] contexts = {48, 48, 48, 48, 48, 6};
        // BF16 weights (widened in the row kernel) on the two DCFormer++ LG variants; F32 on all of them
        DType[] dtypes = name.startsWith("DCFormer++ LG") ? new DType[] {DType.F32, DType.BF16} : new DType[] {DType.F32};
        for (DType dtype : dtypes) {
            run(c, name, dtype, prompts, contexts, true);
        }
    }

    private static void run(ModelConfig c, String name, DType dtype, int[] prompts, int[] contexts, boolean check) {
        {
            try (MemoryWeightSource w = RandomWeights.generate(c, dtype, 13);
                 DCFormerModel m = DCFormerModel.create(c, w, CPU.backend());
                 DecodeBatch batch = m.newDecodeBatch(8)) {
                SplittableRandom random = new SplittableRandom(5);
                List<Session> batched = new ArrayList<>();
                List<Session> alone = new ArrayList<>();
                try {
                    for (int i = 0; i < prompts.length; i++) {
                        int[] prompt = random.ints(prompts[i], 0, c.vocabSize()).toArray();
                        for (List<Session> list : List.of(batched, alone)) {
                            Session s = m.newSession(contexts[i]);
                            s.prefillLast(prompt);
                            list.add(s);
                        }
                    }
                    for (int step = 0; step < STEPS; step++) {
                        int[] tokens = random.ints(prompts.length, 0, c.vocabSize()).toArray();
                        float[][] together = batch.step(batched, tokens);
                        for (int i = 0; i < prompts.length; i++) {
                            float[] own = alone.get(i).decode(tokens[i]);
                            if (!check) {
                                continue;
                            }
                            assertThat(together[i]).as("%s %s: step %d, session %d (position %d)", name, dtype, step, i,
                                    prompts[i] + step).isEqualTo(own);
                            assertThat(batched.get(i).position()).isEqualTo(prompts[i] + step + 1);
                        }
                    }
                    // a subset, in another order, still matches
                    List<Session> some = List.of(batched.get(3), batched.get(0));
                    float[][] two = batch.step(some, new int[] {7, 8});
                    if (!check) {
                        return;
                    }
                    assertThat(two[0]).isEqualTo(alone.get(3).decode(7));
                    assertThat(two[1]).isEqualTo(alone.get(0).decode(8));
                } finally {
                    batched.forEach(Session::close);
                    alone.forEach(Session::close);
                }
            }
        }
    }

    @Test
    void badStepsAreRefusedBeforeAnySessionMoves() {
        ModelConfig c = ModelConfig.parse("{" + BASE + "\"model_type\": \"dcformer\", \"n_layer\": 2, \"window_size\": 5, "
                + "\"use_qk_norm\": true, \"intermediate_size\": 48}");
        try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 1);
             DCFormerModel m = DCFormerModel.create(c, w, CPU.backend());
             DCFormerModel other = DCFormerModel.create(c, w, CPU.backend());
             DecodeBatch batch = m.newDecodeBatch(2);
             Session a = m.newSession();
             Session b = m.newSession(3);
             Session foreign = other.newSession()) {
            a.prefillLast(new int[] {1, 2});
            b.prefillLast(new int[] {1, 2, 3});
            assertThatThrownBy(() -> batch.step(List.of(a, a), new int[] {1, 2})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("twice");
            assertThatThrownBy(() -> batch.step(List.of(a), new int[] {1, 2})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("one token per session");
            assertThatThrownBy(() -> batch.step(List.of(a, foreign), new int[] {1, 2}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("another model");
            assertThatThrownBy(() -> batch.step(List.of(a, b), new int[] {1, 2})).as("b's context is full")
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maximum context");
            assertThatThrownBy(() -> batch.step(List.of(a), new int[] {61})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("vocabulary");
            assertThatThrownBy(() -> batch.step(List.of(a, b, foreign), new int[] {1, 2, 3}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 to 2 sessions");
            assertThat(a.position()).isEqualTo(2);
            assertThat(b.position()).isEqualTo(3);
            assertThat(batch.step(List.of(a), new int[] {4})[0]).hasSize(61);
            assertThat(a.position()).isEqualTo(3);
        }
    }

    @Test
    void prefillPiecesMatchWhatPrefillRuns() {
        ModelConfig c = ModelConfig.parse("{" + BASE + "\"model_type\": \"dcformer\", \"n_layer\": 2, \"window_size\": 5, "
                + "\"use_qk_norm\": true, \"intermediate_size\": 48}");
        try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 2);
             DCFormerModel m = DCFormerModel.create(c, w, CPU.backend());
             Session whole = m.newSession(48, 8);
             Session pieces = m.newSession(48, 8)) {
            int[] tok = new SplittableRandom(3).ints(17, 0, 61).toArray();
            assertThat(pieces.prefillPieces(17)).containsExactly(8, 7, 2);
            assertThat(pieces.prefillPieces(9)).containsExactly(7, 2);
            float[] last = whole.prefillLast(tok);
            float[] mine = null;
            int done = 0;
            for (int p : pieces.prefillPieces(tok.length)) {
                mine = pieces.prefillLast(Arrays.copyOfRange(tok, done, done + p));
                done += p;
            }
            assertThat(mine).isEqualTo(last);
            assertThat(pieces.decode(5)).isEqualTo(whole.decode(5));
        }
    }
}
