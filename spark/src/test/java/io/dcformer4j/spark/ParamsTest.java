package io.dcformer4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The transformers' params are Spark ML params: listed, copied, saved and loaded, validated. */
class ParamsTest {

    @Test
    void paramsAreListedCopiedSavedAndLoaded(@TempDir Path dir) throws Exception {
        SharedSpark.session();
        DCFormerGenerator g = new DCFormerGenerator().setModelPath("demo:dcformer").setBackend("cpu")
                .setMaxNewTokens(9).setTemperature(0.7).setTopP(0.9).setSeed(5).setStopStrings(new String[] {"\n", "."})
                .setBatchSize(3).setContextSize(100).setFailOnError(true).setInputCol("p").setOutputCol("c");
        assertThat(List.of(g.params())).extracting(p -> p.name()).contains("modelPath", "backend", "threads", "inputCol",
                "outputCol", "errorCol", "batchSize", "contextSize", "failOnError", "maxNewTokens", "temperature", "topP",
                "stopStrings", "seed");

        DCFormerGenerator copy = g.copy(new ParamMap().put(g.maxNewTokens(), 4));
        assertThat(copy.getMaxNewTokens()).isEqualTo(4);
        assertThat(copy.getSeed()).isEqualTo(5);
        assertThat(copy.uid()).isEqualTo(g.uid());

        String path = dir.resolve("gen").toString();
        g.save(path);
        DCFormerGenerator loaded = DCFormerGenerator.load(path);
        assertThat(loaded.uid()).isEqualTo(g.uid());
        assertThat(loaded.getStopStrings()).containsExactly("\n", ".");
        assertThat(loaded.generationConfig()).isEqualTo(g.generationConfig());
        assertThat(loaded.getContextSize()).isEqualTo(100);
        assertThat(loaded.getFailOnError()).isTrue();

        DCFormerScorer s = new DCFormerScorer().setModelPath("file:///models/x").setScoreAnswers(true).setLogProbCol("lp");
        s.save(dir.resolve("score").toString());
        DCFormerScorer s2 = DCFormerScorer.load(dir.resolve("score").toString());
        assertThat(s2.getScoreAnswers()).isTrue();
        assertThat(s2.getModelPath()).isEqualTo("file:///models/x");
        assertThat(s2.getOrDefault(s2.logProbCol())).isEqualTo("lp");
    }

    @Test
    void invalidValuesAndSchemasAreRefusedWithTheProblemNamed() {
        Dataset<Row> data = SharedSpark.session().createDataset(List.of("a"), Encoders.STRING()).toDF("prompt");
        DCFormerGenerator g = new DCFormerGenerator();
        assertThatThrownBy(() -> g.setBatchSize(0)).hasMessageContaining("batchSize");
        assertThatThrownBy(() -> g.setTopP(0)).hasMessageContaining("topP");
        assertThatThrownBy(() -> g.transform(data)).hasMessageContaining("modelPath is not set");
        assertThatThrownBy(() -> g.setInputCol("missing").transformSchema(data.schema()))
                .hasMessageContaining("input column 'missing'");
        assertThatThrownBy(() -> new DCFormerGenerator().setOutputCol("prompt").transformSchema(data.schema()))
                .hasMessageContaining("output column 'prompt' is already");
        Dataset<Row> numbers = data.selectExpr("1 as prompt");
        assertThatThrownBy(() -> new DCFormerGenerator().transformSchema(numbers.schema()))
                .hasMessageContaining("has type int");
        assertThatThrownBy(() -> new DCFormerGenerator().setModelPath("demo:dcformer").setBackend("cpu")
                .setContextSize(1_000_000).transform(data).collectAsList())
                .satisfies(e -> assertThat(String.valueOf(e) + e.getCause()).contains("block_size"));
    }
}
