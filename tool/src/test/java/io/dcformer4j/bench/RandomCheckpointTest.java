package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.RandomWeights;
import io.dcformer4j.model.Session;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random checkpoints of a released layout: sharded, loadable, reproducible, values from the stated distribution. */
class RandomCheckpointTest {
    /** DCPythia-6.9B's config with toy sizes: biases, LayerNorm, partial rotary, parallel residual, even layers local. */
    static final String PYTHIA = """
            {"architectures": ["DCPythia"], "model_type": "dcpythia", "block_size": 64, "vocab_size": 101, "n_layer": 3,
             "n_head": 4, "n_local_heads": 4, "dim": 32, "head_dim": 8, "intermediate_size": 128, "rope_base": 10000,
             "rotary_pct": 0.25, "norm_eps": 1e-05, "use_qk_norm": true, "window_size": 4, "window_type": null,
             "query_wise": false, "use_parallel_residual": true, "use_linear_bias": true, "bos_token_id": 0,
             "eos_token_id": 0, "tie_word_embeddings": false, "torch_dtype": "float16"}""";

    private static List<String> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void writesOneShardPerLayerThatTheOrdinaryLoaderRuns(@TempDir Path dir) throws Exception {
        RandomCheckpoint.Spec spec = new RandomCheckpoint.Spec(PYTHIA, DType.BF16, 7);
        List<String> progress = new ArrayList<>();
        long bytes = RandomCheckpoint.write(dir, spec, progress::add);
        assertThat(files(dir)).containsExactly("config.json", "model-embedding-head.safetensors", "model-layer-0.safetensors",
                "model-layer-1.safetensors", "model-layer-2.safetensors", RandomCheckpoint.INDEX);
        assertThat(progress).hasSize(4);
        assertThat(RandomCheckpoint.holds(dir, spec)).isTrue();
        assertThat(RandomCheckpoint.holds(dir, new RandomCheckpoint.Spec(PYTHIA, DType.BF16, 8))).isFalse();
        assertThat(RandomCheckpoint.holds(dir, new RandomCheckpoint.Spec(PYTHIA, DType.F16, 7))).isFalse();
        assertThat(bytes).isEqualTo(ReleasedBench.weightBytes(io.dcformer4j.model.ModelConfig.parse(PYTHIA), DType.BF16));
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1));
             DCFormerModel model = DCFormerModel.load(dir, be);
             Session s = model.newSession(16)) {
            float[] logits = s.prefillLast(new int[] {1, 2, 3, 4, 5, 6});
            assertThat(logits).hasSize(101);
            for (float v : logits) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    @Test
    void sameSpecSameBytesAndValuesFromTheStatedDistribution(@TempDir Path a, @TempDir Path b) throws Exception {
        RandomCheckpoint.Spec spec = new RandomCheckpoint.Spec(PYTHIA, DType.BF16, 3);
        RandomCheckpoint.write(a, spec, line -> { });
        RandomCheckpoint.write(b, spec, line -> { });
        for (String f : files(a)) {
            assertThat(Files.mismatch(a.resolve(f), b.resolve(f))).as(f).isEqualTo(-1L);
        }
        try (WeightSource w = WeightSource.open(a)) {
            for (var t : w.tensors().values()) {
                RandomWeights.Uniform d = RandomWeights.distribution(t.name(), t.shape());
                var data = w.data(t.name());
                double sum = 0;
                long n = t.shape().numel();
                for (long i = 0; i < n; i++) {
                    float v = Numerics.bf16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
                    // BF16 keeps 8 significant bits: a value may round half a step (2^-8 relative) outward.
                    double halfStep = (Math.abs(d.mean()) + d.spread()) / 256;
                    assertThat(Math.abs(v - d.mean())).as(t.name()).isLessThanOrEqualTo(d.spread() + halfStep);
                    sum += v;
                }
                if (n >= 1000) { // the values are spread, not constant
                    assertThat(Math.abs(sum / n - d.mean())).as(t.name()).isLessThan(d.spread() / 4);
                }
            }
        }
    }

    @Test
    void refusesAnIntegerDtype(@TempDir Path dir) {
        assertThatThrownBy(() -> RandomCheckpoint.write(dir, new RandomCheckpoint.Spec(PYTHIA, DType.I32, 1), l -> { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("I32");
    }

    @Test
    void shardNamesSortByLayer() {
        assertThat(RandomCheckpoint.shardOf("layers.7.attention.wqkv.weight", 32)).isEqualTo("model-layer-07.safetensors");
        assertThat(RandomCheckpoint.shardOf("tok_embeddings.weight", 32)).isEqualTo("model-embedding-head.safetensors");
        assertThat(Shape.of(2, 3).numel()).isEqualTo(6);
    }
}
