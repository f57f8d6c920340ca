package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.TinyModelDir;
import io.dcformer4j.eval.BracketedAnswers;
import io.dcformer4j.tokenizer.TinyTokenizers;
import io.dcformer4j.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scoring of bracketed answers (spec §8) on hand-made cases, and the command end to end. */
class EvalSyntheticTest {
    private static final Tokenizer TOK = TinyTokenizers.of(TinyTokenizers.ascii97());

    @TempDir
    Path tmp;

    @Test
    void markersAreRemovedAndAnswersLocated() {
        BracketedAnswers.Sample s = BracketedAnswers.parse("\nMary has a pen.\nMary has a kind of [ stationery ]\nWho? [ Tom Smith ]\n");
        assertThat(s.text()).isEqualTo("\nMary has a pen.\nMary has a kind of stationery\nWho? Tom Smith\n");
        assertThat(s.answers()).hasSize(2);
        int[] a = s.answers().get(0);
        assertThat(s.text().substring(a[0], a[1])).isEqualTo("stationery");
        int[] b = s.answers().get(1);
        assertThat(s.text().substring(b[0], b[1])).isEqualTo("Tom Smith");
    }

    @Test
    void aSpanCountsOnlyWhenEveryTokenIsTheArgmax() {
        // One token per character in the test tokenizer: "ab cd" -> a b Ġ c d; the span is " cd" = tokens 2..5.
        BracketedAnswers.Sample s = BracketedAnswers.parse("ab [ cd ]");
        int[] ids = TOK.encode(s.text());
        List<int[]> spans = BracketedAnswers.answerTokens(TOK, s, ids);
        assertThat(spans).hasSize(1);
        assertThat(spans.get(0)).containsExactly(2, 5);

        float[][] logits = new float[ids.length][TOK.vocabSize()];
        for (int p = 0; p + 1 < ids.length; p++) {
            logits[p][ids[p + 1]] = 1; // a perfect predictor
        }
        assertThat(BracketedAnswers.correct(ids, logits, 2, 5)).isTrue();
        logits[3][ids[4]] = 0;
        logits[3][7] = 2; // wrong at the last answer token
        assertThat(BracketedAnswers.correct(ids, logits, 2, 5)).isFalse();
        logits[3][ids[4]] = 3;
        logits[0][5] = 5; // a wrong prediction outside the span does not matter
        assertThat(BracketedAnswers.correct(ids, logits, 2, 5)).isTrue();
        assertThat(BracketedAnswers.correct(ids, logits, 0, 1)).isFalse();
    }

    @Test
    void commandReportsPerTaskAndMacroAverage() throws Exception {
        Path model = TinyModelDir.create(tmp);
        Path data = tmp.resolve("data.jsonl");
        Files.writeString(data, String.join("\n",
                "{\"task_id\": \"task0\", \"texts\": \"\\nMary has a pen.\\nMary has a kind of [ stationery ]\\n\"}",
                "{\"task_id\": \"task0\", \"texts\": \"\\nTom has a fox.\\nTom has a kind of [ animal ]\\n\"}",
                "{\"task_id\": \"task1\", \"texts\": \"\\nA B C\\nWhich is different? [ C ]\\nOr [ B ]\\n\"}",
                "{\"task_id\": \"task2\", \"texts\": \"\\nnot evaluated: past the limit [ x ]\\n\"}") + "\n");
        CliRun r = CliRun.of("eval-synthetic", "--model", model.toString(), "--data", data.toString(), "--limit", "3",
                "--backend", "cpu", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("samples").asInt()).isEqualTo(3);
        assertThat(j.get("spans").asInt()).isEqualTo(4);
        assertThat(j.get("tasks").has("task2")).isFalse();
        assertThat(j.get("tasks").get("task0").get("spans").asInt()).isEqualTo(2);
        assertThat(j.get("tasks").get("task1").get("spans").asInt()).isEqualTo(2);
        double macro = (j.get("tasks").get("task0").get("accuracy").asDouble() + j.get("tasks").get("task1").get("accuracy").asDouble()) / 2;
        assertThat(j.get("macro_accuracy").asDouble()).isEqualTo(macro);

        CliRun table = CliRun.of("eval-synthetic", "--model", model.toString(), "--data", data.toString(), "--backend", "cpu");
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("task0").contains("task2").contains("macro-average accuracy");

        assertThat(CliRun.of("eval-synthetic", "--model", model.toString(), "--data", tmp.resolve("none").toString()).exit())
                .isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.of("eval-synthetic", "--model", model.toString(), "--data", data.toString(), "--limit", "0").exit())
                .isEqualTo(Main.EXIT_USAGE);
    }
}
