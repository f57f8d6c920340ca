package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedWeightSourceTest {

    @TempDir
    Path dir;

    @BeforeEach
    void shards() throws IOException {
        SafetensorsBytes.write(dir.resolve("model-00001-of-00002.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                SafetensorsBytes.f32(1, 2, 3));
        SafetensorsBytes.write(dir.resolve("model-00002-of-00002.safetensors"),
                "{\"c\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", SafetensorsBytes.f32(4));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":16},\"weight_map\":{" + weightMap + "}}");
    }

    private static final String GOOD = "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
            + "\"c\":\"model-00002-of-00002.safetensors\"";

    @Test
    void opensEveryShardThroughTheIndex() throws IOException {
        index(GOOD);
        try (WeightSource w = WeightSource.open(dir)) {
            assertThat(w.tensors().keySet()).containsExactly("a", "b", "c");
            assertThat(TestResources.f32(w.data("a"))).containsExactly(1, 2);
            assertThat(TestResources.f32(w.data("b"))).containsExactly(3);
            assertThat(TestResources.f32(w.data("c"))).containsExactly(4);
            assertThat(w.tensors().get("c").file().getFileName().toString()).isEqualTo("model-00002-of-00002.safetensors");
            assertThat(w.origin()).endsWith("model.safetensors.index.json");
        }
    }

    @Test
    void singleFileWinsOverIndexInADirectory() throws IOException {
        index(GOOD);
        SafetensorsBytes.write(dir.resolve("model.safetensors"),
                "{\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", SafetensorsBytes.f32(9));
        try (WeightSource w = WeightSource.open(dir)) {
            assertThat(w.tensors().keySet()).containsExactly("z");
        }
    }

    @Test
    void rejectsMissingShardFile() throws IOException {
        index(GOOD + ",\"d\":\"model-00003-of-00002.safetensors\"");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'d'").hasMessageContaining("missing file")
                .hasMessageContaining("model-00003-of-00002.safetensors");
    }

    @Test
    void rejectsTensorAbsentFromItsShard() throws IOException {
        index("\"a\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'a'").hasMessageContaining("model-00002-of-00002.safetensors")
                .hasMessageContaining("no such tensor");
    }

    @Test
    void rejectsDuplicateTensorAcrossShards() throws IOException {
        SafetensorsBytes.write(dir.resolve("model-00002-of-00002.safetensors"),
                "{\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", SafetensorsBytes.f32(4, 5));
        index(GOOD);
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'b'").hasMessageContaining("two shards")
                .hasMessageContaining("model-00001-of-00002.safetensors")
                .hasMessageContaining("model-00002-of-00002.safetensors");
    }

    @Test
    void rejectsShardOutsideTheDirectory() throws IOException {
        index("\"a\":\"../elsewhere.safetensors\"");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'a'").hasMessageContaining("outside the checkpoint directory");
    }

    @Test
    void rejectsAnIndexThatNamesAnIndex() throws IOException {
        index("\"a\":\"model.safetensors.index.json\"");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'a'").hasMessageContaining("another index");
    }

    @Test
    void rejectsAnIndexThatNamesItselfUnderAnotherSpelling() throws IOException {
        for (String self : new String[] {"model.safetensors.index.json/.", "model.safetensors.index.json/", "./model.safetensors.index.json"}) {
            index("\"a\":\"" + self + "\"");
            assertThatThrownBy(() -> WeightSource.open(dir)).as(self).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining("'a'").hasMessageContaining("another index");
        }
    }

    @Test
    void keepsTensorsAShardHoldsBeyondTheMap() throws IOException {
        index("\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\"");
        try (WeightSource w = WeightSource.open(dir.resolve("model.safetensors.index.json"))) {
            assertThat(w.tensors().keySet()).containsExactly("a", "b", "c");
        }
    }

    @Test
    void rejectsBrokenIndexes() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("bad JSON");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("no \"weight_map\"");
        index("\"a\":5");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'a'").hasMessageContaining("expected a file name");
    }

    @Test
    void indexJsonLimitsAreWordedLikeTheHeaders() throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":" + "[".repeat(100) + "]".repeat(100) + "}");
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("bad JSON in checkpoint index").hasMessageContaining("nested deeper than 64 levels");
    }

    @Test
    void brokenShardIsReportedWithItsFileName() throws IOException {
        Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[] {1, 2});
        index(GOOD);
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model-00002-of-00002.safetensors");
    }
}
