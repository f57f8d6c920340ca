package io.dcformer4j.spark;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Sampled generation with a seed: every row's completion equals the single-process engine's output for that
 * prompt with the row's derived seed, and is the same with 1, 4 or 8 partitions, in any order, with one row or
 * eight rows in flight per partition.
 */
class GeneratorMatchesEngineTest {
    private static final long SEED = 1234;
    private static List<String> prompts;
    private static Map<String, String> engine;

    @BeforeAll
    static void runTheEngineInProcess() throws IOException {
        // The questions of the held-out file without their answers, one per line, 32 of them.
        prompts = new ArrayList<>();
        for (String line : Files.readAllLines(SharedSpark.heldout())) {
            String texts = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("texts").asText();
            for (String q : texts.split("\n")) {
                int bracket = q.indexOf(" [ ");
                if (bracket > 0 && prompts.size() < 32) {
                    prompts.add(q.substring(0, bracket));
                }
            }
            if (prompts.size() == 32) {
                break;
            }
        }
        engine = new LinkedHashMap<>();
        try (Backend backend = Backends.open("cpu", BackendOptions.withThreads(2));
             DCFormer model = DCFormer.demo(backend);
             GenerationSession session = model.newSession()) {
            GenerationConfig base = generator().generationConfig();
            for (String p : prompts) {
                session.reset();
                engine.put(p, session.generate(p, base.toBuilder().seed(RowSeeds.derive(SEED, p)).build()));
            }
        }
    }

    private static DCFormerGenerator generator() {
        return new DCFormerGenerator()
                .setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                .setMaxNewTokens(6).setTemperature(1.0).setTopP(0.95).setSeed(SEED)
                .setStopStrings(new String[] {"\n"});
    }

    private static Map<String, String> generate(Dataset<Row> data, int batchSize) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Row r : generator().setBatchSize(batchSize).transform(data).collectAsList()) {
            assertThat(r.<String>getAs("generationError")).isNull();
            out.put(r.getAs("prompt"), r.getAs("completion"));
        }
        return out;
    }

    @Test
    void everyRowEqualsTheSingleProcessEngine() {
        SparkSession spark = SharedSpark.session();
        Dataset<Row> data = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt");
        int loadsBefore = ExecutorModels.loads();

        Map<String, String> four = generate(data.repartition(4), 8);
        assertThat(four).isEqualTo(engine);
        // sampling really happened: not every completion is the greedy one
        assertThat(engine.values()).doesNotContainNull().hasSize(32);

        assertThat(generate(data.coalesce(1), 1)).isEqualTo(engine);
        assertThat(generate(data.orderBy(col("prompt").desc()).repartition(8), 3)).isEqualTo(engine);
        assertThat(ExecutorModels.loads() - loadsBefore).as("the model is opened once per JVM").isLessThanOrEqualTo(1);
    }

    @Test
    void theSeedChangesSampledCompletions() {
        SparkSession spark = SharedSpark.session();
        Dataset<Row> data = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt");
        Map<String, String> other = new LinkedHashMap<>();
        for (Row r : generator().setSeed(SEED + 1).transform(data).collectAsList()) {
            other.put(r.getAs("prompt"), r.getAs("completion"));
        }
        assertThat(other).isNotEqualTo(engine);
    }
}
