package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** Seeded random weights: names, sizes, determinism and scale. */
class PresetWeightsTest {
    private static final BenchPreset P = new BenchPreset("t", 128, 4, 2, 256, 300, 8, DType.BF16, 64);

    @Test
    void holdsEveryTensorOfThePresetWithItsSize() {
        try (PresetWeights w = PresetWeights.generate(P, true, 7)) {
            assertThat(w.tensors().keySet()).containsExactlyInAnyOrderElementsOf(P.tensorShapes(true).keySet());
            assertThat(w.totalBytes()).isEqualTo(P.weightBytes(true));
            assertThat(w.data("layers.1.attention.wqkv.weight").byteSize()).isEqualTo(3L * 128 * 128 * 2);
            assertThat(w.tensors().get("output.weight").dtype()).isEqualTo(DType.BF16);
            assertThatThrownBy(() -> w.data("layers.9.attention.wo.weight")).hasMessageContaining("layers.9.attention.wo.weight");
        }
        try (PresetWeights w = PresetWeights.generate(P, false, 7)) {
            assertThat(w.tensors().keySet()).noneMatch(n -> n.contains("dyn_w_proj"));
        }
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherBytes() {
        try (PresetWeights a = PresetWeights.generate(P, true, 1);
             PresetWeights b = PresetWeights.generate(P, true, 1);
             PresetWeights c = PresetWeights.generate(P, true, 2)) {
            String name = "layers.0.feed_forward.w2.weight";
            assertThat(a.data(name).mismatch(b.data(name))).isEqualTo(-1);
            assertThat(a.data(name).mismatch(c.data(name))).isNotEqualTo(-1);
        }
    }

    @Test
    void valuesHaveTheIntendedScale() {
        try (PresetWeights w = PresetWeights.generate(P, true, 3)) {
            assertThat(floats(w.data("layers.0.attention_norm.weight"))).containsOnly(1f);
            double std = std(floats(w.data("layers.0.attention.wqkv.weight")));
            assertThat(std).isCloseTo(1 / Math.sqrt(128), org.assertj.core.data.Percentage.withPercentage(5));
            double stdOut = std(floats(w.data("layers.0.attention.wo.weight")));
            assertThat(stdOut).isCloseTo(1 / Math.sqrt(128) / Math.sqrt(2 * 2), org.assertj.core.data.Percentage.withPercentage(5));
            double stdQkw = std(floats(w.data("layers.0.attention.dyn_w_proj.qkw")));
            assertThat(stdQkw).isCloseTo(1 / Math.sqrt(16), org.assertj.core.data.Percentage.withPercentage(10));
        }
    }

    @Test
    void closedSourceRefusesAccess() {
        PresetWeights w = PresetWeights.generate(P, false, 3);
        w.close();
        assertThatThrownBy(() -> w.data("norm.weight")).isInstanceOf(IllegalStateException.class);
    }

    private static float[] floats(MemorySegment s) {
        float[] f = new float[(int) (s.byteSize() / 2)];
        for (int i = 0; i < f.length; i++) {
            f[i] = Numerics.bf16ToFloat(s.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i));
        }
        return f;
    }

    private static double std(float[] v) {
        double s = 0;
        double s2 = 0;
        for (float x : v) {
            s += x;
            s2 += (double) x * x;
        }
        double m = s / v.length;
        return Math.sqrt(s2 / v.length - m * m);
    }
}
