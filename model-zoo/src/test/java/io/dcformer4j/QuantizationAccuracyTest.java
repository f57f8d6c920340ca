package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.DType;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.MemoryWeightSource;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.Quantization;
import io.dcformer4j.model.RandomWeights;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.eval.BracketedAnswers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The accuracy cost of Q8_0 weights (quantized at load) against the same checkpoint unquantized, with the
 * measures of {@link QuantizationAccuracy}: on the golden model (F32), on the demo models (BF16), where the
 * targets are asserted (greedy agreement ≥ 98 % over 256 tokens, eval-synthetic accuracy within 0.5 points),
 * and, with {@code -Ddcformer4j.q8.released=true}, on random two-layer models of the released widths. The
 * figures are printed for docs/performance.md.
 */
class QuantizationAccuracyTest {
    private static final int TOKENS = 256;
    @RegisterExtension
    static final CpuBackendFixture CPU = new CpuBackendFixture();

    /** Eight generations of 256 tokens each: 2,048 positions, so one flipped near-tie moves the share by 0.05 %. */
    private static void print(String what, QuantizationAccuracy.Greedy g) {
        System.out.printf(Locale.ROOT, "Q8_0 %s: greedy agreement %.2f %% over %d tokens (free-running generations part at"
                + " step %d), logits relative L2 %.4f%n", what, 100 * g.agreement(), g.tokens(), g.firstDivergence(), g.relL2());
    }

    @Test
    void goldenModel() throws IOException, URISyntaxException {
        Path dir = Path.of(getClass().getResource("/golden/dcformer_tiny/config.json").toURI()).getParent();
        // the golden model was made with block_size 64; positions past it are valid maths (RoPE), and 256
        // generated tokens need them
        String json = Files.readString(dir.resolve("config.json")).replace("\"block_size\": 64", "\"block_size\": 512");
        ModelConfig config = ModelConfig.parse(json, dir + "/config.json (block_size 512)");
        int[] prompt = {5, 17, 3, 60, 42, 8, 91, 23};
        try (DCFormerModel f32 = DCFormerModel.load(dir, config, CPU.backend(), Quantization.NONE);
             DCFormerModel q8 = DCFormerModel.load(dir, config, CPU.backend(), Quantization.Q8_0)) {
            QuantizationAccuracy.Greedy g = QuantizationAccuracy.greedy(f32, q8, prompt, TOKENS);
            print("golden dcformer_tiny (F32 reference)", g);
            // a random-weight model: near-ties between logits are common, so this bound is looser than the
            // trained demo's; the relative L2 is the figure that shows a broken kernel
            assertThat(g.relL2()).isLessThan(0.05);
            assertThat(g.agreement()).isGreaterThanOrEqualTo(0.90);
        }
    }

    @Test
    void demoModelsMeetTheTargets() throws URISyntaxException {
        Path data = Path.of(getClass().getResource("/io/dcformer4j/demo/heldout.jsonl").toURI());
        for (String variant : new String[] {"dcformer", "mha"}) {
            Path dir = DemoModels.directory(variant);
            try (DCFormer bf16 = DCFormer.load(dir, CPU.backend(), EngineOptions.defaults().withBatching(false));
                 DCFormer q8 = DCFormer.load(dir, CPU.backend(), EngineOptions.defaults().withBatching(false)
                         .withQuantization(Quantization.Q8_0))) {
                QuantizationAccuracy.Greedy g = QuantizationAccuracy.greedy(bf16.model(), q8.model(),
                        prompts(bf16, data), TOKENS);
                print("demo " + variant + " (BF16 reference)", g);
                QuantizationAccuracy.Eval e16 = QuantizationAccuracy.evalSynthetic(bf16, data);
                QuantizationAccuracy.Eval e8 = QuantizationAccuracy.evalSynthetic(q8, data);
                System.out.printf(Locale.ROOT, "Q8_0 demo %s eval-synthetic: macro accuracy BF16 %.2f %%, Q8_0 %.2f %%; micro "
                                + "%.2f %% vs %.2f %%; mean answer log-probability %.4f vs %.4f (%d spans)%n", variant,
                        100 * e16.macro(), 100 * e8.macro(), 100 * e16.micro(), 100 * e8.micro(), e16.meanLogProb(),
                        e8.meanLogProb(), e16.spans());
                assertThat(g.agreement()).as("demo %s greedy agreement", variant).isGreaterThanOrEqualTo(0.98);
                assertThat(100 * Math.abs(e8.macro() - e16.macro())).as("demo %s macro accuracy, points", variant)
                        .isLessThanOrEqualTo(0.5);
                assertThat(100 * Math.abs(e8.micro() - e16.micro())).as("demo %s micro accuracy, points", variant)
                        .isLessThanOrEqualTo(0.5);
            }
        }
    }

    /** The first 24 tokens of each of the first eight held-out texts (answer markers removed). */
    private static List<int[]> prompts(DCFormer model, Path data) {
        try {
            List<int[]> out = new ArrayList<>();
            for (String line : Files.readAllLines(data).subList(0, 8)) {
                String text = new ObjectMapper().readTree(line).get("texts").asText();
                int[] ids = model.tokenizer().encode(BracketedAnswers.parse(text).text());
                out.add(Arrays.copyOf(ids, Math.min(24, ids.length)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Random two-layer models of the released widths: run with -Ddcformer4j.q8.released=true (minutes). */
    @Test
    void randomModelsOfTheReleasedWidths() {
        Assumptions.assumeTrue(Boolean.getBoolean("dcformer4j.q8.released"), "set -Ddcformer4j.q8.released=true");
        String dcformer = "{\"model_type\": \"dcformer\", \"vocab_size\": 50257, \"n_layer\": 2, \"n_head\": 32,"
                + " \"dim\": 2560, \"intermediate_size\": 6912, \"block_size\": 512, \"use_dcmha\": true,"
                + " \"use_qk_norm\": true, \"window_size\": 256, \"window_type\": \"LG\", \"mgate\": false}";
        String pythia = "{\"model_type\": \"dcpythia\", \"vocab_size\": 50257, \"n_layer\": 2, \"n_head\": 32,"
                + " \"dim\": 4096, \"intermediate_size\": 16384, \"block_size\": 512, \"rotary_pct\": 0.25,"
                + " \"use_parallel_residual\": true, \"use_linear_bias\": true, \"use_dcmha\": true}";
        for (String[] m : new String[][] {{"dcformer-2.8b widths, 2 layers", dcformer}, {"dcpythia-6.9b widths, 2 layers", pythia}}) {
            ModelConfig config = ModelConfig.parse(m[1], m[0]);
            int[] prompt = new java.util.SplittableRandom(9).ints(16, 0, config.vocabSize()).toArray();
            try (MemoryWeightSource w = RandomWeights.generate(config, DType.BF16, 7);
                 DCFormerModel bf16 = DCFormerModel.create(config, w, CPU.backend());
                 DCFormerModel q8 = DCFormerModel.create(config, w, CPU.backend(), Quantization.Q8_0)) {
                QuantizationAccuracy.Greedy g = QuantizationAccuracy.greedy(bf16, q8, prompt, TOKENS);
                print("random " + m[0] + " (BF16 reference)", g);
                assertThat(g.relL2()).isLessThan(0.05);
            }
        }
        // the same measure for BF16 against F32 weights: how sensitive such a random model is to any rounding
        ModelConfig config = ModelConfig.parse(dcformer, "dcformer-2.8b widths");
        int[] prompt = new java.util.SplittableRandom(9).ints(16, 0, config.vocabSize()).toArray();
        try (MemoryWeightSource w32 = RandomWeights.generate(config, DType.F32, 7);
             MemoryWeightSource w16 = RandomWeights.generate(config, DType.BF16, 7);
             DCFormerModel f32 = DCFormerModel.create(config, w32, CPU.backend());
             DCFormerModel bf16 = DCFormerModel.create(config, w16, CPU.backend())) {
            print("(baseline: BF16 against F32) random dcformer-2.8b widths, 2 layers", QuantizationAccuracy.greedy(f32, bf16, prompt, TOKENS));
        }
    }
}
