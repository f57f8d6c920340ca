package io.dcformer4j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Row throughput in {@code local[2]} with one row at a time versus {@code batchSize} rows in flight per
 * partition, for generation and scoring on the demo model. A measurement, not a check: it runs only with
 * {@code -Ddcformer4j.spark.bench=true} and prints its figures (docs/performance.md quotes them).
 */
@EnabledIfSystemProperty(named = "dcformer4j.spark.bench", matches = "true")
class SparkThroughputBench {

    @Test
    void rowsPerSecond() throws Exception {
        List<String> prompts = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(SharedSpark.heldout())) {
            String t = json.readTree(line).get("texts").asText();
            texts.add(t);
            for (String q : t.split("\n")) {
                int b = q.indexOf(" [ ");
                if (b > 0) {
                    prompts.add(q.substring(0, b));
                }
            }
        }
        Dataset<Row> p = SharedSpark.session().createDataset(prompts.subList(0, 128), Encoders.STRING()).toDF("prompt")
                .repartition(2).cache();
        Dataset<Row> s = SharedSpark.session().createDataset(texts.subList(0, 96), Encoders.STRING()).toDF("text")
                .repartition(2).cache();
        p.count();
        s.count();
        for (int round = 0; round < 2; round++) { // round 0 warms up (model load, JIT)
            for (int batch : new int[] {1, 8}) {
                DCFormerGenerator g = new DCFormerGenerator().setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                        .setMaxNewTokens(8).setBatchSize(batch);
                report(round, "generate 8 tokens", batch, p.count(), time(() -> g.transform(p).count()));
                DCFormerScorer sc = new DCFormerScorer().setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                        .setScoreAnswers(true).setBatchSize(batch);
                report(round, "score (teacher-forced)", batch, s.count(), time(() -> sc.transform(s).count()));
            }
        }
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void report(int round, String what, int batch, long rows, double seconds) {
        System.out.printf(Locale.ROOT, "BENCH %s %-24s batchSize %d: %d rows in %.2f s = %.1f rows/s%n",
                round == 0 ? "warm-up" : "measure", what, batch, rows, seconds, rows / seconds);
    }
}
