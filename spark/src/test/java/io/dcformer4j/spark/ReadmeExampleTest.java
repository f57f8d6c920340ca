package io.dcformer4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.spark.example.BatchCompletion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Spark example ({@link BatchCompletion}, printed there from its first import to its end) runs on
 * the demo model: JSON Lines in, Parquet out, one completion per prompt.
 */
class ReadmeExampleTest {

    @Test
    void theReadmeExampleReadsJsonLinesAndWritesParquet(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("prompts.jsonl");
        Files.write(in, List.of(
                "{\"id\": 1, \"prompt\": \"< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of\"}",
                "{\"id\": 2, \"prompt\": \"< John has a notebook. Susan has an orange. Susan has a cat. >. Susan has a\"}",
                "{\"id\": 3, \"prompt\": \"< James has an ant. Emma has a pencil. Emma has coffee. >. Emma has a kind of\"}"));
        Path out = dir.resolve("completions.parquet");

        BatchCompletion.run(SharedSpark.session(), in.toString(), out.toString(), "demo:dcformer");

        Dataset<Row> written = SharedSpark.session().read().parquet(out.toString());
        assertThat(written.columns()).containsExactlyInAnyOrder("id", "prompt", "completion", "generationError");
        List<Row> rows = written.orderBy("id").collectAsList();
        assertThat(rows).hasSize(3).allSatisfy(r -> {
            assertThat(r.<String>getAs("generationError")).isNull();
            assertThat(r.<String>getAs("completion")).isNotEmpty().doesNotContain("\n");
        });
    }

    @Test
    void theReadmePrintsTheExampleVerbatim() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/dcformer4j/spark/example/BatchCompletion.java"));
        String shown = source.substring(source.indexOf("import "));
        assertThat(Files.readString(Path.of("../README.md"))).contains(shown);
    }
}
