package io.dcformer4j.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.DCFormer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Model paths: a local directory, a file: URI, the demo alias, and a "remote" file system copied once. */
class ModelLocationTest {
    private static final List<String> PROMPTS = List.of(
            "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of",
            "< John has a notebook. Susan has an orange. Susan has a cat. >. Susan has a kind of");

    private static List<String> complete(String modelPath) {
        Dataset<Row> data = SharedSpark.session().createDataset(PROMPTS, Encoders.STRING()).toDF("prompt");
        return new DCFormerGenerator().setModelPath(modelPath).setBackend("cpu").setThreads(2).setMaxNewTokens(4)
                .transform(data).orderBy("prompt").select("completion").as(Encoders.STRING()).collectAsList();
    }

    @Test
    void localFileUriAndRemotePathsGiveTheSameCompletions() {
        Path demo = DCFormer.demoDirectory("dcformer").toAbsolutePath();
        List<String> viaDemo = complete("demo:dcformer");
        assertThat(complete(demo.toString())).isEqualTo(viaDemo);
        assertThat(demo.toUri().toString()).startsWith("file:");
        assertThat(complete(demo.toUri().toString())).isEqualTo(viaDemo);

        int before = ExecutorModels.loads();
        String remote = "testfs://" + demo.toUri().getPath();
        assertThat(complete(remote)).isEqualTo(viaDemo);
        assertThat(complete(remote)).isEqualTo(viaDemo);
        assertThat(ExecutorModels.loads() - before).as("copied and opened once for both jobs").isEqualTo(1);
    }

    @Test
    void copyToLocalCopiesEveryFileOfTheDirectory() throws IOException {
        Path demo = DCFormer.demoDirectory("dcformer");
        Path copy = ModelFiles.copyToLocal(demo.toUri(), new Configuration());
        try (Stream<Path> original = Files.list(demo); Stream<Path> copied = Files.list(copy)) {
            List<String> want = original.map(p -> p.getFileName().toString()).sorted().toList();
            assertThat(copied.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(want)
                    .contains("config.json", "tokenizer.json");
            for (String f : want) {
                assertThat(Files.mismatch(demo.resolve(f), copy.resolve(f))).isEqualTo(-1L);
            }
        } finally {
            ModelFiles.deleteQuietly(copy);
        }
        assertThat(copy).doesNotExist();
    }

    @Test
    void aMissingRemoteDirectoryIsNamed() {
        assertThatThrownBy(() -> ModelFiles.copyToLocal(java.net.URI.create("file:///no/such/model"), new Configuration()))
                .hasMessageContaining("file:/no/such/model");
        assertThat(ModelFiles.isRemote("hdfs://nn/models/x")).isTrue();
        assertThat(ModelFiles.isRemote("s3a://bucket/x")).isTrue();
        assertThat(ModelFiles.isRemote("file:///models/x")).isFalse();
        assertThat(ModelFiles.isRemote("/models/x")).isFalse();
        assertThat(ModelFiles.isRemote("demo:dcformer")).isFalse();
    }
}
