package io.dcformer4j.model;

import static io.dcformer4j.model.TestData.flatten;
import static io.dcformer4j.model.TestData.maxAbs;
import static io.dcformer4j.model.TestData.reference;
import static io.dcformer4j.model.TestData.relL2;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official reference outputs of the tiny DCFormer++ model (LGLL windows of 8, qk-norm, mgate, every
 * parameter random): prefill, prefill + teacher-forced decode, and BF16 weights. A failure message lists the
 * error of each layer's residual stream, to localise the difference.
 */
class GoldenTest {
    private static final double REL_L2 = 1e-5;
    private static final double MAX_ABS = 1e-4;

    private static Backend backend;
    private static DCFormerModel model;
    private static int[] tokens;

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu");
        model = DCFormerModel.load(TestData.goldenDir(), backend);
        tokens = TestData.referenceTokens();
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    @Test
    void configIsTheDocumentedOne() {
        ModelConfig c = model.config();
        assertThat(tokens).hasSize(40);
        assertThat(c.numLayers()).isEqualTo(4);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.mgateDim()).isEqualTo(4);
        assertThat(List.of(c.window(0), c.window(1), c.window(2), c.window(3))).containsExactly(8, 0, 8, 8);
    }

    @Test
    void prefillMatchesReferenceLogitsAndLayerOutputs() {
        List<float[]> layers = new ArrayList<>();
        float[][] logits;
        try (Session s = model.newSession()) {
            s.setLayerObserver((layer, first, residual) -> layers.add(residual.toFloatArray()));
            logits = s.prefill(tokens);
            assertThat(s.position()).isEqualTo(40);
        }
        StringBuilder perLayer = new StringBuilder();
        for (int l = 0; l < layers.size(); l++) {
            float[] want = reference("layer" + l + "_out");
            perLayer.append(String.format("%n layer %d: rel L2 %.3g, max abs %.3g", l, relL2(layers.get(l), want),
                    maxAbs(layers.get(l), want)));
        }
        assertThat(layers).hasSize(4);
        assertClose("prefill_logits", flatten(logits), reference("prefill_logits"), perLayer.toString());
        for (int l = 0; l < layers.size(); l++) {
            assertClose("layer" + l + "_out", layers.get(l), reference("layer" + l + "_out"), "");
        }
    }

    @Test
    void prefill24ThenDecodeMatchesReference() {
        try (Session s = model.newSession()) {
            float[][] first = s.prefill(Arrays.copyOf(tokens, 24));
            assertClose("prefill24_logits", flatten(first), reference("prefill24_logits"), "");
            float[][] steps = new float[16][];
            for (int p = 24; p < 40; p++) {
                steps[p - 24] = s.decode(tokens[p]);
            }
            assertThat(s.position()).isEqualTo(40);
            assertClose("decode_logits", flatten(steps), reference("decode_logits"), "");
        }
    }

    @Test
    void bf16WeightsMatchReference() {
        try (WeightSource bf16 = WeightSource.open(TestData.goldenDir().resolve("model.bf16.safetensors"));
             DCFormerModel m = DCFormerModel.create(model.config(), bf16, backend);
             Session s = m.newSession()) {
            assertClose("prefill_logits_bf16weights", flatten(s.prefill(tokens)), reference("prefill_logits_bf16weights"), "");
        }
    }

    @Test
    void lastRowOnlyEqualsLastRowOfFullPrefill() {
        float[] full;
        float[] last;
        try (Session s = model.newSession()) {
            float[][] all = s.prefill(tokens);
            full = all[all.length - 1];
        }
        try (Session s = model.newSession(40)) {
            last = s.prefillLast(tokens);
            assertThat(s.position()).isEqualTo(40);
        }
        assertThat(maxAbs(last, full)).isLessThan(1e-5);
        assertClose("last row", last, Arrays.copyOfRange(reference("prefill_logits"), 39 * 97, 40 * 97), "");
    }

    @Test
    void resetStartsANewSequence() {
        try (Session s = model.newSession()) {
            s.prefill(new int[] {5, 6, 7});
            s.reset();
            assertThat(s.position()).isZero();
            assertClose("prefill after reset", flatten(s.prefill(tokens)), reference("prefill_logits"), "");
        }
    }

    static void assertClose(String what, float[] actual, float[] expected, String detail) {
        double rel = relL2(actual, expected);
        double abs = maxAbs(actual, expected);
        assertThat(rel <= REL_L2 && abs <= MAX_ABS)
                .as("%s: rel L2 %.3g (limit %.0e), max abs %.3g (limit %.0e)%s", what, rel, REL_L2, abs, MAX_ABS, detail)
                .isTrue();
    }
}
