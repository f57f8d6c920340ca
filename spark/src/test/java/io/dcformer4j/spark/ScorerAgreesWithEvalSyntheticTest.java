package io.dcformer4j.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sum;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@link DCFormerScorer} with answer scoring, summed per task, gives exactly the table of
 * {@code dcformer4j eval-synthetic} on the demo DCFormer and its held-out file (every task's spans and correct
 * answers, and the README's 31.4 % macro-average), and a partition count does not change any row's result.
 */
class ScorerAgreesWithEvalSyntheticTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static Dataset<Row> scoredIn4;

    @BeforeAll
    static void scoreTheHeldOutFile() {
        SparkSession spark = SharedSpark.session();
        Dataset<Row> data = spark.read().schema("task_id STRING, texts STRING").json(SharedSpark.heldout().toString());
        scoredIn4 = new DCFormerScorer()
                .setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                .setInputCol("texts").setScoreAnswers(true).setBatchSize(2)
                .transform(data.repartition(4))
                .cache();
    }

    @Test
    void perTaskAccuracyEqualsEvalSynthetic() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        int exit = cli.execute("eval-synthetic", "--data", SharedSpark.heldout().toString(), "--json",
                "--backend", "cpu", "--threads", "2");
        assertThat(exit).as(out.toString()).isZero();
        JsonNode report = JSON.readTree(out.toString());

        Map<String, List<Long>> cliTasks = new TreeMap<>();
        report.get("tasks").properties().forEach(e -> cliTasks.put(e.getKey(),
                List.of(e.getValue().get("spans").asLong(), e.getValue().get("correct").asLong())));

        Dataset<Row> ok = scoredIn4.filter(col("scoreError").isNull());
        Map<String, List<Long>> sparkTasks = new TreeMap<>();
        for (Row r : ok.groupBy("task_id").agg(sum("answerSpans"), sum("answersCorrect")).collectAsList()) {
            sparkTasks.put(r.getString(0), List.of(r.getLong(1), r.getLong(2)));
        }
        assertThat(sparkTasks).hasSize(12).isEqualTo(cliTasks);
        assertThat(scoredIn4.count() - ok.count()).isEqualTo(report.get("skipped_longer_than_block").asLong());

        double macro = sparkTasks.values().stream().mapToDouble(v -> v.get(1) / (double) v.get(0)).average().orElseThrow();
        assertThat(macro).isEqualTo(report.get("macro_accuracy").asDouble());
        assertThat(String.format(Locale.ROOT, "%.1f", 100 * macro)).isEqualTo("31.4"); // the README's figure
    }

    @Test
    void everyRowScoresTheSameInOnePartitionAsInFour() {
        // 60 rows fixed on the driver (a bare limit may pick other rows each time it is evaluated)
        Dataset<Row> first = scoredIn4.select("task_id", "texts").orderBy("texts").limit(60);
        Dataset<Row> data = SharedSpark.session().createDataFrame(first.collectAsList(), first.schema());
        Dataset<Row> in1 = new DCFormerScorer()
                .setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                .setInputCol("texts").setScoreAnswers(true).setBatchSize(1)
                .transform(data.coalesce(1));
        List<Row> one = in1.orderBy("texts").collectAsList();
        List<Row> four = scoredIn4.join(data.select("texts"), "texts").select(in1.columns()[0],
                Arrays.copyOfRange(in1.columns(), 1, in1.columns().length)).orderBy("texts").collectAsList();
        assertThat(one).hasSize(60);
        assertThat(four).hasSize(60);
        for (int i = 0; i < one.size(); i++) {
            Row a = one.get(i);
            Row b = four.get(i);
            for (String c : List.of("task_id", "texts", "tokenCount", "answerSpans", "answersCorrect", "answerAccuracy",
                    "scoreError")) {
                assertThat((Object) a.getAs(c)).as(c).isEqualTo(b.getAs(c));
            }
            // The CPU backend gives bit-identical floats run to run (fixed-order lane sums), so a row's
            // log-probability does not depend on the partition that scored it.
            for (String c : List.of("logProb", "perplexity")) {
                assertThat((Object) a.getAs(c)).as(c).isEqualTo(b.getAs(c));
            }
            assertThat(a.<Integer>getAs("tokenCount")).isPositive();
            assertThat(a.<Double>getAs("perplexity")).isGreaterThan(1.0);
        }
    }
}
