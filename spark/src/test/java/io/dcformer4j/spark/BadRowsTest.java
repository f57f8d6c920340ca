package io.dcformer4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Rows that cannot be processed get null outputs and a reason, unless failOnError asks the job to fail. */
class BadRowsTest {
    private static final String GOOD = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";

    private static Dataset<Row> prompts() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("prompt", DataTypes.StringType);
        List<Row> rows = Arrays.asList(
                RowFactory.create(1, GOOD),
                RowFactory.create(2, null),
                RowFactory.create(3, (GOOD + " ").repeat(4)),
                RowFactory.create(4, ""),
                RowFactory.create(5, GOOD));
        return SharedSpark.session().createDataFrame(rows, schema).repartition(2);
    }

    private static DCFormerGenerator generator() {
        return new DCFormerGenerator().setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                .setMaxNewTokens(3).setContextSize(48);
    }

    @Test
    void badPromptsGetNullAndTheReason() {
        List<Row> out = generator().transform(prompts()).orderBy("id").collectAsList();
        assertThat(out).extracting(r -> r.getAs("completion") == null).containsExactly(false, true, true, true, false);
        assertThat(out.get(0).<String>getAs("generationError")).isNull();
        assertThat(out.get(1).<String>getAs("generationError")).startsWith("null input");
        assertThat(out.get(2).<String>getAs("generationError")).startsWith("prompt too long").contains("context size is 48");
        assertThat(out.get(3).<String>getAs("generationError")).startsWith("empty prompt");
        assertThat(out.get(0).<String>getAs("completion")).isEqualTo(out.get(4).getAs("completion"));
    }

    @Test
    void failOnErrorFailsTheJobNamingTheReason() {
        assertThatThrownBy(() -> generator().setFailOnError(true).transform(prompts()).collectAsList())
                .hasMessageContaining("failOnError")
                .satisfies(e -> assertThat(messages(e)).containsAnyOf("prompt too long", "null input", "empty prompt"));
    }

    @Test
    void binaryInputThatIsNotUtf8IsUndecodable() {
        StructType schema = new StructType().add("id", DataTypes.IntegerType).add("text", DataTypes.BinaryType);
        List<Row> rows = Arrays.asList(
                RowFactory.create(1, GOOD.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                RowFactory.create(2, new byte[] {'a', 'b', (byte) 0xff, (byte) 0xfe, 'c'}),
                RowFactory.create(3, "x".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Dataset<Row> data = SharedSpark.session().createDataFrame(rows, schema);
        List<Row> out = new DCFormerScorer().setModelPath("demo:dcformer").setBackend("cpu").setThreads(2)
                .transform(data).orderBy("id").collectAsList();
        assertThat(out.get(0).<String>getAs("scoreError")).isNull();
        assertThat(out.get(0).<Double>getAs("logProb")).isNegative();
        assertThat(out.get(1).<String>getAs("scoreError")).startsWith("undecodable input").contains("not valid UTF-8");
        assertThat(out.get(1).<Double>getAs("logProb")).isNull();
        assertThat(out.get(2).<String>getAs("scoreError")).contains("at least 2 are needed");
    }

    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
