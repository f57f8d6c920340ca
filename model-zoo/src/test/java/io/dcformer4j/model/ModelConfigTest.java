package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelConfigTest {

    private static ModelConfig parse(String fields) {
        return ModelConfig.parse("{" + fields + "}");
    }

    private static String windows(ModelConfig c) {
        StringBuilder sb = new StringBuilder();
        IntStream.range(0, c.numLayers()).forEach(l -> sb.append(c.isLocal(l) ? 'L' : 'G'));
        return sb.toString();
    }

    @Test
    void goldenConfigIsReadWithEveryField() {
        ModelConfig c = ModelConfig.load(TestData.goldenDir());
        assertThat(c.family()).isEqualTo(ModelFamily.DCFORMER);
        assertThat(c.blockSize()).isEqualTo(64);
        assertThat(c.vocabSize()).isEqualTo(97);
        assertThat(c.numLayers()).isEqualTo(4);
        assertThat(c.numHeads()).isEqualTo(4);
        assertThat(c.dim()).isEqualTo(64);
        assertThat(c.headDim()).isEqualTo(16);
        assertThat(c.rotaryDim()).isEqualTo(16);
        assertThat(c.intermediateSize()).isEqualTo(160);
        assertThat(c.mgate()).isTrue();
        assertThat(c.mgateDim()).isEqualTo(4);
        assertThat(c.ropeBase()).isEqualTo(500000.0);
        assertThat(c.normEps()).isEqualTo(1e-6);
        assertThat(c.useQkNorm()).isTrue();
        assertThat(c.attentionMode()).isEqualTo(AttentionMode.DCMHA);
        assertThat(c.windowSize()).isEqualTo(8);
        assertThat(c.windowType()).isEqualTo("LGLL");
        assertThat(windows(c)).isEqualTo("LGLL");
        assertThat(c.torchDtype()).isEqualTo("float32");
        assertThat(c.defaultComposeRank()).isEqualTo(2);
        assertThat(c.defaultComposeHidden()).isEqualTo(16);
        assertThat(c.r24PrefillWindowPlusOne()).isFalse();
    }

    @Test
    void aDimTooLargeForTheDefaultFfnWidthIsRefusedNotWrappedNegative() {
        // 8 * dim / 3 and 4 * dim once overflowed int and gave a negative intermediate_size that was accepted.
        assertThatThrownBy(() -> parse("\"model_type\": \"dcformer\", \"dim\": 2000000000, \"n_head\": 2")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dim=2000000000").hasMessageContaining("intermediate_size");
        assertThatThrownBy(() -> parse("\"model_type\": \"dcpythia\", \"dim\": 1000000000, \"n_head\": 2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intermediate_size");
        assertThat(parse("\"model_type\": \"dcformer\", \"dim\": 2000000000, \"n_head\": 2, \"intermediate_size\": 64").intermediateSize()).isEqualTo(64);
    }

    @Test
    void dcformerDefaultsAreTheReferenceClassDefaults() {
        ModelConfig c = parse("\"model_type\": \"dcformer\"");
        assertThat(c.blockSize()).isEqualTo(2048);
        assertThat(c.vocabSize()).isEqualTo(32000);
        assertThat(c.numLayers()).isEqualTo(32);
        assertThat(c.numHeads()).isEqualTo(32);
        assertThat(c.dim()).isEqualTo(2560);
        assertThat(c.headDim()).isEqualTo(80);
        assertThat(c.intermediateSize()).isEqualTo(6912);
        assertThat(c.ropeBase()).isEqualTo(500000.0);
        assertThat(c.normEps()).isEqualTo(1e-5);
        assertThat(c.useQkNorm()).isFalse();
        assertThat(c.mgate()).isFalse();
        assertThat(c.windowSize()).isEqualTo(256);
        assertThat(c.windowType()).isNull();
        assertThat(c.window(0)).isEqualTo(256);
        assertThat(c.window(1)).isZero();
        assertThat(c.defaultComposeRank()).isEqualTo(2);
        assertThat(c.defaultComposeHidden()).isEqualTo(128);
        assertThat(c.parallelResidual()).isFalse();
        assertThat(c.linearBias()).isFalse();
    }

    @Test
    void dcpythiaDefaultsDiffer() {
        ModelConfig c = parse("\"model_type\": \"dcpythia\", \"dim\": 4096, \"n_head\": 32");
        assertThat(c.family()).isEqualTo(ModelFamily.DCPYTHIA);
        assertThat(c.intermediateSize()).isEqualTo(16384);
        assertThat(c.ropeBase()).isEqualTo(10000.0);
        assertThat(c.parallelResidual()).isTrue();
        assertThat(c.linearBias()).isTrue();
        assertThat(c.rotaryPct()).isEqualTo(0.25);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.rotaryDim()).isEqualTo(32);
        assertThat(c.mgate()).isFalse();
    }

    @Test
    void mgateDefaultWidthAndIntermediateDefaultRounding() {
        ModelConfig c = parse("\"model_type\": \"dcformer\", \"dim\": 100, \"n_head\": 2, \"mgate\": true, "
                + "\"intermediate_size\": 88");
        assertThat(c.mgateDim()).isEqualTo(44);
        assertThat(parse("\"model_type\": \"dcformer\", \"dim\": 100, \"n_head\": 2, \"intermediate_size\": null")
                .intermediateSize()).isEqualTo(512);
    }

    @Test
    void specialTokenIds() {
        ModelConfig former = parse("\"model_type\": \"dcformer\"");
        assertThat(former.bosTokenId()).isEqualTo(1);
        assertThat(former.eosTokenId()).isEqualTo(2);
        assertThat(former.padTokenId()).isNull();
        ModelConfig pythia = parse("\"model_type\": \"dcpythia\", \"eos_token_id\": [7, 8], \"pad_token_id\": 3");
        assertThat(pythia.bosTokenId()).isZero();
        assertThat(pythia.eosTokenId()).isEqualTo(7);
        assertThat(pythia.padTokenId()).isEqualTo(3);
        assertThatThrownBy(() -> parse("\"model_type\": \"dcformer\", \"eos_token_id\": [\"x\"]"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("eos_token_id");
    }

    @Test
    void familyFromArchitecturesWhenModelTypeIsAbsent() {
        assertThat(parse("\"architectures\": [\"DCPythia\"]").family()).isEqualTo(ModelFamily.DCPYTHIA);
    }

    @ParameterizedTest
    @CsvSource({
        "null, 256, 8, LGLGLGLG",
        "'\"LG\"', 4, 4, LGLG",
        "'\"LGLL\"', 4, 8, LGLLLGLL",
        "'\"LGL6\"', 4, 10, LGLLLLLLLG",
        "null, null, 4, GGGG",
        "'\"LGLL\"', null, 4, GGGG",
    })
    void windowPatterns(String type, String size, int layers, String expected) {
        ModelConfig c = parse("\"model_type\": \"dcformer\", \"dim\": 16, \"n_head\": 2, \"n_layer\": " + layers
                + ", \"window_type\": " + type + ", \"window_size\": " + size);
        assertThat(windows(c)).isEqualTo(expected);
        for (int l = 0; l < layers; l++) {
            assertThat(c.window(l)).isEqualTo(c.isLocal(l) ? Integer.parseInt(size) : 0);
        }
    }

    @Test
    void attentionModes() {
        assertThat(parse("\"model_type\": \"dcformer\", \"use_dcmha\": false").attentionMode())
                .isEqualTo(AttentionMode.PLAIN_MHA);
        assertThat(parse("\"model_type\": \"dcformer\", \"query_wise\": true").attentionMode())
                .isEqualTo(AttentionMode.QUERY_WISE);
        assertThat(parse("\"model_type\": \"dcformer\", \"use_sw\": true").useSw()).isTrue();
        assertThat(parse("\"model_type\": \"dcformer\", \"use_sw\": true, \"use_dcmha\": false").useSw()).isFalse();
    }

    @Test
    void r24SwitchDefaultsOffAndCanBeSet() {
        ModelConfig c = parse("\"model_type\": \"dcformer\"");
        assertThat(c.r24PrefillWindowPlusOne()).isFalse();
        ModelConfig on = c.withR24PrefillWindowPlusOne(true);
        assertThat(on.r24PrefillWindowPlusOne()).isTrue();
        assertThat(on.dim()).isEqualTo(c.dim());
        assertThat(parse("\"model_type\": \"dcformer\", \"r24_prefill_window_plus_one\": true").r24PrefillWindowPlusOne())
                .isTrue();
    }

    @Test
    void nLocalHeadsMinusOneOrEqualIsAccepted() {
        assertThat(parse("\"model_type\": \"dcformer\", \"n_local_heads\": -1").numHeads()).isEqualTo(32);
        assertThat(parse("\"model_type\": \"dcformer\", \"n_local_heads\": 32").numHeads()).isEqualTo(32);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"model_type\": \"dcformer\", \"dim\": 66, \"n_head\": 4 | dim=66",
        "\"model_type\": \"dcformer\", \"mgate\": true, \"mgate_dim\": 7, \"intermediate_size\": 160 | mgate_dim=7",
        "\"model_type\": \"dcformer\", \"window_type\": \"LLG\" | window_type \"LLG\"",
        "\"model_type\": \"dcformer\", \"n_local_heads\": 8 | n_local_heads=8",
        "\"model_type\": \"dcformer\", \"n_layer\": -2 | n_layer must be positive, got -2",
        "\"model_type\": \"dcformer\", \"dim\": 0 | dim must be positive, got 0",
        "\"model_type\": \"dcformer\", \"vocab_size\": -5 | vocab_size must be positive, got -5",
        "\"model_type\": \"dcformer\", \"intermediate_size\": -1 | intermediate_size must be positive, got -1",
        "\"model_type\": \"dcformer\", \"window_size\": -8 | window_size must be positive or null, got -8",
        "\"model_type\": \"dcformer\", \"block_size\": 0 | block_size must be positive, got 0",
        "\"model_type\": \"dcformer\", \"norm_eps\": -1e-5 | norm_eps",
        "\"model_type\": \"dcformer\", \"n_head\": \"four\" | n_head must be an integer, got \"four\"",
        "\"model_type\": \"dcformer\", \"use_qk_norm\": 1 | use_qk_norm must be true or false, got 1",
        "\"model_type\": \"gpt2\" | unknown model_type 'gpt2'",
        "\"dim\": 64 | missing required field model_type",
        "\"architectures\": [\"Llama\"] | architectures",
        "\"model_type\": \"dcpythia\", \"dim\": 64, \"n_head\": 4, \"rotary_pct\": 1.5 | rotary_pct",
        "\"model_type\": \"dcpythia\", \"dim\": 40, \"n_head\": 4, \"rotary_pct\": 0.3 | rotary_pct=0.3",
    })
    void invalidConfigsNameTheFieldAndValue(String fields, String message) {
        assertThatThrownBy(() -> parse(fields)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message).hasMessageContaining("config.json");
    }

    @Test
    void malformedJsonAndMissingFileAreReported(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> ModelConfig.parse("{\"dim\": ", "x/config.json"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x/config.json").hasMessageContaining("JSON");
        assertThatThrownBy(() -> ModelConfig.parse("[1, 2]")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("object");
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("config.json").hasMessageContaining("not found");
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"dcformer\", \"dim\": 30, \"n_head\": 4}");
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.resolve("config.json").toString()).hasMessageContaining("dim=30");
    }

    @Test
    void theRecordRefusesInconsistentValuesWithoutTheReader() {
        ModelConfig c = parse("\"model_type\": \"dcformer\", \"dim\": 64, \"n_head\": 4, \"mgate\": true, \"mgate_dim\": 4, "
                + "\"intermediate_size\": 160");
        assertThat(c.withR24PrefillWindowPlusOne(true).withR24PrefillWindowPlusOne(false)).as("the R24 switch changes nothing else")
                .isEqualTo(c);
        assertThat(c.withR24PrefillWindowPlusOne(true).r24PrefillWindowPlusOne()).isTrue();
        assertThatThrownBy(() -> new ModelConfig(ModelFamily.DCFORMER, 64, 97, 2, 4, 64, 162, 10000, 1.0, 1e-5, false, true,
                false, false, 0, null, true, 4, false, false, false, null, null, null, null, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("mgate_dim=4 does not divide intermediate_size=162");
        assertThatThrownBy(() -> new ModelConfig(ModelFamily.DCFORMER, 64, 97, 2, 4, 64, 160, 10000, 0.5, 1e-5, false, true,
                false, false, 0, null, false, 0, false, false, false, null, null, null, null, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rotary_pct=0.5");
    }
}
