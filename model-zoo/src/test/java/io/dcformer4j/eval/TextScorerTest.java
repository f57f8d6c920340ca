package io.dcformer4j.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dcformer4j.DCFormer;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TextScorerTest {
    private static final String FACTS = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";
    private static Backend backend;
    private static DCFormer model;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", BackendOptions.withThreads(2));
        model = DCFormer.demo(backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    @Test
    void parseRemovesTheMarkersAndRecordsWhereEachAnswerIs() {
        BracketedAnswers.Sample s = BracketedAnswers.parse("a kind of [ animal ]\nx [ pen ] y");
        assertThat(s.text()).isEqualTo("a kind of animal\nx pen y");
        assertThat(s.answers()).containsExactly(new int[] {10, 16}, new int[] {19, 22});
    }

    @Test
    void logProbIsTheSumOfLogSoftmaxOfEachNextToken() {
        int[] ids = model.tokenizer().encode(FACTS);
        float[][] logits;
        try (Session s = model.model().newSession(ids.length)) {
            logits = s.prefill(ids);
        }
        double want = 0;
        for (int p = 1; p < ids.length; p++) {
            float[] row = logits[p - 1];
            double z = 0;
            for (float v : row) {
                z += Math.exp(v);
            }
            want += Math.log(Math.exp(row[ids[p]]) / z);
        }
        TextScore got = new TextScorer(model).score(FACTS, false);
        assertThat(got.scoredTokens()).isEqualTo(ids.length - 1);
        assertThat(got.logProb()).isCloseTo(want, within(1e-6 * Math.abs(want)));
        assertThat(got.perplexity()).isGreaterThan(1);
        assertThat(got.answerSpans()).isZero();
        assertThat(got.answerAccuracy()).isNaN();
    }

    @Test
    void anAnswerCountsOnlyWhenTheModelPredictsEveryToken() {
        // The demo model continues this prompt with " animal" (README quick start).
        TextScorer scorer = new TextScorer(model);
        assertThat(scorer.score(FACTS + " [ animal ]", true)).extracting(TextScore::answerSpans, TextScore::answersCorrect)
                .containsExactly(1, 1);
        assertThat(scorer.score(FACTS + " [ stationery ]", true)).extracting(TextScore::answerSpans, TextScore::answersCorrect)
                .containsExactly(1, 0);
    }

    @Test
    void tooShortAndTooLongTextsAreRefusedWithTheirLength() {
        TextScorer scorer = new TextScorer(model, 8);
        assertThatThrownBy(() -> scorer.score("a", false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1 token");
        assertThatThrownBy(() -> scorer.score(FACTS, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than the 8");
    }
}
