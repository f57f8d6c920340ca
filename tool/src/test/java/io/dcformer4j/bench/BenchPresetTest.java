package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.WeightLayout;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Preset shapes, their parameter and byte counts, and agreement with the model's own expectations. */
class BenchPresetTest {

    @Test
    void issueFivePresetsHaveTheSpecifiedShapes() {
        assertThat(BenchPreset.byName("small")).extracting(BenchPreset::dim, BenchPreset::heads, BenchPreset::layers,
                BenchPreset::ffn, BenchPreset::vocab, BenchPreset::window, BenchPreset::weightDType)
                .containsExactly(512, 8, 8, 1408, 32000, 256, DType.BF16);
        assertThat(BenchPreset.byName("MEDIUM")).extracting(BenchPreset::dim, BenchPreset::heads, BenchPreset::layers,
                BenchPreset::ffn, BenchPreset::vocab, BenchPreset::window, BenchPreset::weightDType)
                .containsExactly(1024, 16, 24, 2816, 32000, 256, DType.BF16);
        assertThat(BenchPreset.byName("pytorch-ref")).extracting(BenchPreset::dim, BenchPreset::heads,
                BenchPreset::layers, BenchPreset::weightDType).containsExactly(1024, 16, 8, DType.F32);
        assertThatThrownBy(() -> BenchPreset.byName("huge")).hasMessageContaining("huge").hasMessageContaining("medium");
    }

    @Test
    void dcmhaAddsTheSpecCostModelsParametersPerLayer() {
        BenchPreset p = BenchPreset.MEDIUM;
        long n = p.heads();
        long e = p.dim();
        // spec §6.1 with K = 4N and I = 2: 20·N·E + 64·N² per layer
        assertThat(p.parameters(true) - p.parameters(false)).isEqualTo(p.layers() * (20 * n * e + 64 * n * n));
        long perLayerMha = 4 * e * e + 3 * e * p.ffn() + 2 * e + 2L * p.headDim();
        long total = p.layers() * perLayerMha + 2L * p.vocab() * e + e;
        assertThat(p.parameters(false)).isEqualTo(total);
        assertThat(p.weightBytes(true)).isEqualTo(2 * p.parameters(true));
        assertThat(p.decodeBytesPerToken(true)).isEqualTo(2 * (p.parameters(true) - (long) p.vocab() * e + e));
        assertThat(p.matmulParameters(false)).isEqualTo(p.layers() * (4 * e * e + 3 * e * p.ffn()) + (long) p.vocab() * e);
    }

    @Test
    void lgllPatternHasOneGlobalLayerInFour() {
        assertThat(BenchPreset.MEDIUM.globalLayers()).isEqualTo(6);
        assertThat(BenchPreset.SMALL.isGlobal(1)).isTrue();
        assertThat(BenchPreset.SMALL.isGlobal(2)).isFalse();
    }

    @Test
    void configIsAcceptedByTheModelAndMatchesThePreset() {
        for (boolean dcmha : new boolean[] {true, false}) {
            ModelConfig c = DCFormerBenchModels.config(BenchPreset.SMALL, dcmha);
            assertThat(c.dim()).isEqualTo(512);
            assertThat(c.numLayers()).isEqualTo(8);
            assertThat(c.intermediateSize()).isEqualTo(1408);
            assertThat(c.useQkNorm()).isTrue();
            assertThat(c.attentionMode()).isEqualTo(dcmha ? AttentionMode.DCMHA : AttentionMode.PLAIN_MHA);
            for (int l = 0; l < c.numLayers(); l++) {
                assertThat(c.isLocal(l)).as("layer %d local", l).isEqualTo(!BenchPreset.SMALL.isGlobal(l));
                if (c.isLocal(l)) {
                    assertThat(c.window(l)).isEqualTo(256);
                }
            }
        }
    }

    @Test
    void tensorNamesAndShapesAreWhatTheModelExpects() {
        for (boolean dcmha : new boolean[] {true, false}) {
            BenchPreset p = BenchPreset.SMALL;
            ModelConfig c = DCFormerBenchModels.config(p, dcmha);
            SortedMap<String, Shape> expected = WeightLayout.expected(c, c.defaultComposeRank(), c.defaultComposeHidden());
            SortedMap<String, Shape> ours = new TreeMap<>();
            for (Map.Entry<String, int[]> e : p.tensorShapes(dcmha).entrySet()) {
                ours.put(e.getKey(), Shape.of(e.getValue()));
            }
            assertThat(ours).isEqualTo(expected);
        }
    }
}
