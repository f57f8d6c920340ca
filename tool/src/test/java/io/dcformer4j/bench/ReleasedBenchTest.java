package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The released-size benchmark on a toy configuration of the same family, and the released configs themselves. */
class ReleasedBenchTest {

    @Test
    void measuresAndReusesAKeptCheckpoint(@TempDir Path dir) throws Exception {
        List<String> progress = new ArrayList<>();
        ReleasedBench.Options o = new ReleasedBench.Options("toy-pythia", RandomCheckpointTest.PYTHIA, DType.BF16, 8, 3,
                16L << 20, dir, 5, progress::add);
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1))) {
            ReleasedResult first = ReleasedBench.run(o, be);
            assertThat(first.writeSeconds()).isPositive();
            assertThat(first.loadSeconds()).isPositive();
            assertThat(first.firstTokenSeconds()).isPositive();
            assertThat(first.decodeTokensPerS()).isPositive();
            assertThat(first.bandwidthGbPerS()).isPositive();
            assertThat(first.decodeOfFloor()).isPositive();
            ReleasedResult second = ReleasedBench.run(o, be);
            assertThat(second.writeSeconds()).isEqualTo(-1);
            assertThat(progress).anyMatch(l -> l.startsWith("reusing the random checkpoint"));
            JsonNode j = new ObjectMapper().readTree(second.toJson());
            assertThat(j.has("write_s")).isFalse();
            assertThat(j.get("weight_bytes").asLong()).isEqualTo(first.weightBytes());
            assertThat(second.toTable()).contains("reused").contains("time to first token").contains("% of the floor");
        }
        assertThat(dir.resolve(RandomCheckpoint.INDEX)).exists();
    }

    @Test
    void aTemporaryCheckpointIsRemoved() throws Exception {
        ReleasedBench.Options o = new ReleasedBench.Options("toy-pythia", RandomCheckpointTest.PYTHIA, DType.F16, 4, 1,
                16L << 20, null, 5, l -> { });
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        long before;
        try (var s = Files.list(tmp)) {
            before = s.filter(p -> p.getFileName().toString().startsWith("dcformer4j-bench-toy-pythia")).count();
        }
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1))) {
            ReleasedBench.run(o, be);
        }
        try (var s = Files.list(tmp)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("dcformer4j-bench-toy-pythia")).count())
                    .isEqualTo(before);
        }
    }

    @Test
    void aRunLongerThanTheBlockIsRefused() {
        ReleasedBench.Options o = new ReleasedBench.Options("toy-pythia", RandomCheckpointTest.PYTHIA, DType.BF16, 60, 10,
                16L << 20, null, 5, l -> { });
        assertThatThrownBy(() -> ReleasedBench.run(o, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("block_size 64").hasMessageContaining("72 positions");
    }

    @Test
    void releasedConfigsHaveTheSpecSizes() {
        ModelConfig a = ModelConfig.parse(ReleasedShape.DCFORMER_2_8B.configJson());
        assertThat(ReleasedBench.weightBytes(a, DType.F16) / 2).isEqualTo(2_849_567_232L);
        assertThat(a.isLocal(0)).isTrue();
        assertThat(a.isLocal(1)).isFalse();
        ModelConfig b = ModelConfig.parse(ReleasedShape.DCPYTHIA_6_9B.configJson());
        assertThat(ReleasedBench.weightBytes(b, DType.F16) / 2).isEqualTo(6_941_859_840L);
        assertThat(b.parallelResidual()).isTrue();
        assertThat(b.linearBias()).isTrue();
        assertThat(ModelConfig.parse(ReleasedShape.DCPYTHIA_6_9B.configJson(2)).numLayers()).isEqualTo(2);
        assertThatThrownBy(() -> ReleasedShape.DCFORMER_2_8B.configJson(33)).hasMessageContaining("[1, 32]");
        assertThat(ReleasedShape.byName("DCFormer-2.8B")).contains(ReleasedShape.DCFORMER_2_8B);
    }

    @Test
    void decodeStepBytesCountWeightsButTheEmbeddingTableAndTheAttendedCache() {
        ModelConfig c = ModelConfig.parse(RandomCheckpointTest.PYTHIA);
        long all = ReleasedBench.weightBytes(c, DType.BF16);
        long step = ReleasedBench.decodeStepBytes(c, DType.BF16, 10);
        long embeddingRest = (101L * 32 - 32) * 2;
        // layers 0 and 2 are local (window 4), layer 1 global: 4 + 10 + 4 keys, K and V of E = 32 floats each
        long kv = 2L * (4 + 10 + 4) * 32 * 4;
        assertThat(step).isEqualTo(all - embeddingRest + kv);
    }
}
