package io.dcformer4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final float[] LOGITS = {1.0f, 3.0f, 2.5f, -1.0f, 0.5f};

    @Test
    void greedyTakesTheFirstLargest() {
        Sampler s = new Sampler(GenerationConfig.greedy(1));
        assertThat(s.next(LOGITS)).isEqualTo(1);
        assertThat(new Sampler(GenerationConfig.greedy(1)).next(new float[] {2, 5, 5})).isEqualTo(1);
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        GenerationConfig c = GenerationConfig.builder().temperature(5).topK(1).seed(3).build();
        Sampler s = new Sampler(c);
        for (int i = 0; i < 50; i++) {
            assertThat(s.next(LOGITS)).isEqualTo(1);
        }
    }

    @Test
    void sameSeedSameDraws() {
        GenerationConfig c = GenerationConfig.builder().temperature(1).seed(42).build();
        assertThat(draws(c, 200)).isEqualTo(draws(c, 200));
        assertThat(draws(c.toBuilder().seed(43).build(), 200)).isNotEqualTo(draws(c, 200));
    }

    @Test
    void frequenciesFollowTheSoftmax() {
        // p(1)/p(0) = e^(ln 3) = 3 at temperature 1.
        float[] logits = {0f, (float) Math.log(3)};
        Sampler s = new Sampler(GenerationConfig.builder().temperature(1).seed(1).build());
        int ones = 0;
        int n = 20000;
        for (int i = 0; i < n; i++) {
            ones += s.next(logits);
        }
        assertThat(ones / (double) n).isBetween(0.73, 0.77);
    }

    @Test
    void topPKeepsOnlyTheNucleus() {
        // Probabilities ≈ 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps the first two.
        float[] logits = {3f, 2f, 1f, 0f};
        Sampler s = new Sampler(GenerationConfig.builder().temperature(1).topP(0.8).seed(9).build());
        boolean sawSecond = false;
        for (int i = 0; i < 2000; i++) {
            int t = s.next(logits);
            assertThat(t).isIn(0, 1);
            sawSecond |= t == 1;
        }
        assertThat(sawSecond).isTrue();
    }

    @Test
    void topKRestrictsCandidates() {
        Sampler s = new Sampler(GenerationConfig.builder().temperature(10).topK(2).seed(5).build());
        for (int i = 0; i < 500; i++) {
            assertThat(s.next(LOGITS)).isIn(1, 2);
        }
    }

    @Test
    void repetitionPenaltyDemotesSeenTokens() {
        Sampler s = new Sampler(GenerationConfig.builder().repetitionPenalty(2.0).build());
        s.observe(new int[] {1});
        // 3.0 / 2 = 1.5 < 2.5
        assertThat(s.next(LOGITS)).isEqualTo(2);
        // Token 2 is now seen too: 2.5 / 2 = 1.25 < 1.5.
        assertThat(s.next(LOGITS)).isEqualTo(1);
        float[] negative = {-1f, -0.6f};
        Sampler n = new Sampler(GenerationConfig.builder().repetitionPenalty(2.0).build());
        n.observe(new int[] {1});
        assertThat(n.next(negative)).isEqualTo(0); // -0.6 * 2 = -1.2 < -1
    }

    @Test
    void sizeLimitsTheCandidates() {
        Sampler s = new Sampler(GenerationConfig.builder().temperature(3).seed(4).build());
        for (int i = 0; i < 300; i++) {
            assertThat(s.next(LOGITS, 2)).isIn(0, 1);
        }
        assertThat(new Sampler(GenerationConfig.greedy(1)).next(LOGITS, 1)).isZero();
        assertThatThrownBy(() -> s.next(LOGITS, 6)).hasMessageContaining("size");
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThatThrownBy(() -> GenerationConfig.builder().temperature(-1).build()).hasMessageContaining("temperature");
        assertThatThrownBy(() -> GenerationConfig.builder().topP(0).build()).hasMessageContaining("topP");
        assertThatThrownBy(() -> GenerationConfig.builder().topK(-2).build()).hasMessageContaining("topK");
        assertThatThrownBy(() -> GenerationConfig.builder().maxNewTokens(0).build()).hasMessageContaining("maxNewTokens");
        assertThatThrownBy(() -> GenerationConfig.builder().repetitionPenalty(0).build()).hasMessageContaining("repetitionPenalty");
    }

    private static int[] draws(GenerationConfig c, int n) {
        Sampler s = new Sampler(c);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = s.next(LOGITS);
        }
        return out;
    }
}
