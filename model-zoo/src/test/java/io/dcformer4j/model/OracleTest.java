package io.dcformer4j.model;

import static io.dcformer4j.model.TestData.flatten;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Variants the official golden case does not cover (DCPythia parallel and sequential with partial rotary,
 * query-wise, plain MHA, static weights, three heads with compose rank 3, wq/wk/wv storage, F16/BF16, the R24
 * prefill window), against float64 logits of the NumPy transcription of the spec in
 * {@code tools/model-oracle/make_model_fixtures.py} (which reproduces the official golden outputs to 7e-7).
 * Each model is checked in one prefill and, except for the R24 case whose decode window differs by design,
 * as a prefill of 17 tokens followed by decode steps.
 */
class OracleTest {
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu");
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static Path dir(String name) {
        try {
            return Path.of(OracleTest.class.getResource("/oracle/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dcpythia_parallel", "dcpythia_sequential_f16", "dcformer_query_wise", "dcformer_plain_mha",
        "dcformer_static_weights", "dcformer_three_heads_bf16", "dcformer_r24_prefill_window"})
    void logitsMatchTheOracle(String name) {
        Path dir = dir(name);
        int[] tokens;
        float[] expected;
        try (WeightSource ref = WeightSource.open(dir.resolve("reference.safetensors"))) {
            tokens = ref.data("tokens").toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            expected = ref.data("prefill_logits").toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        }
        try (DCFormerModel model = DCFormerModel.load(dir, backend)) {
            try (Session s = model.newSession()) {
                GoldenTest.assertClose(name + " prefill", flatten(s.prefill(tokens)), expected, "");
            }
            if (!model.config().r24PrefillWindowPlusOne()) {
                try (Session s = model.newSession()) {
                    float[][] rows = new float[tokens.length][];
                    System.arraycopy(s.prefill(Arrays.copyOf(tokens, 17)), 0, rows, 0, 17);
                    for (int t = 17; t < tokens.length; t++) {
                        rows[t] = s.decode(tokens[t]);
                    }
                    GoldenTest.assertClose(name + " prefill 17 + decode", flatten(rows), expected, "");
                }
            }
        }
    }
}
