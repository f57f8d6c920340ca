package io.dcformer4j.model;

import static io.dcformer4j.model.TestData.flatten;
import static io.dcformer4j.model.TestData.maxAbs;
import static io.dcformer4j.model.TestData.relL2;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Self-consistency of every family and variant on tiny random models: the logits of a sequence do not depend
 * on how it is fed (one prefill, prefill then decode steps, or uneven prefill chunks). Sequences are 40 long
 * with windows of 4 to 6, so local layers run prefills longer than twice their window and rings wrap.
 */
class ConsistencyTest {
    private static final int T = 40;
    private static final String BASE = "\"vocab_size\": 61, \"dim\": 32, \"n_head\": 4, \"block_size\": 48, "
            + "\"norm_eps\": 1e-6, \"rope_base\": 10000, ";

    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu");
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("DCFormer++ LG", "\"model_type\": \"dcformer\", \"n_layer\": 2, \"window_type\": \"LG\", "
                        + "\"window_size\": 5, \"use_qk_norm\": true, \"intermediate_size\": 48"),
                Arguments.of("DCFormer++ LGLL mgate", "\"model_type\": \"dcformer\", \"n_layer\": 4, "
                        + "\"window_type\": \"LGLL\", \"window_size\": 4, \"use_qk_norm\": true, "
                        + "\"intermediate_size\": 48, \"mgate\": true, \"mgate_dim\": 4"),
                Arguments.of("DCFormer++ LGL6", "\"model_type\": \"dcformer\", \"n_layer\": 9, "
                        + "\"window_type\": \"LGL6\", \"window_size\": 6, \"intermediate_size\": 40"),
                Arguments.of("DCFormer++ even layers local", "\"model_type\": \"dcformer\", \"n_layer\": 3, "
                        + "\"window_type\": null, \"window_size\": 6, \"use_qk_norm\": true"),
                Arguments.of("DCFormer++ all global", "\"model_type\": \"dcformer\", \"n_layer\": 2, "
                        + "\"window_size\": null, \"use_qk_norm\": true, \"intermediate_size\": 48"),
                Arguments.of("DCFormer++ query-wise", "\"model_type\": \"dcformer\", \"n_layer\": 2, "
                        + "\"window_size\": 5, \"query_wise\": true, \"use_qk_norm\": true, \"intermediate_size\": 48"),
                Arguments.of("DCFormer++ plain MHA", "\"model_type\": \"dcformer\", \"n_layer\": 2, "
                        + "\"window_size\": 5, \"use_dcmha\": false, \"intermediate_size\": 48"),
                Arguments.of("DCFormer++ static weights", "\"model_type\": \"dcformer\", \"n_layer\": 2, "
                        + "\"window_size\": 5, \"use_sw\": true, \"use_qk_norm\": true, \"intermediate_size\": 48"),
                Arguments.of("DCPythia parallel", "\"model_type\": \"dcpythia\", \"n_layer\": 2, "
                        + "\"window_size\": 5, \"use_qk_norm\": true, \"rotary_pct\": 0.5, \"intermediate_size\": 48"),
                Arguments.of("DCPythia sequential, no linear bias", "\"model_type\": \"dcpythia\", \"n_layer\": 2, "
                        + "\"window_size\": 5, \"use_parallel_residual\": false, \"use_linear_bias\": false, "
                        + "\"rotary_pct\": 0.25"),
                Arguments.of("DCPythia query-wise all global", "\"model_type\": \"dcpythia\", \"n_layer\": 2, "
                        + "\"window_size\": null, \"query_wise\": true, \"use_qk_norm\": true"));
    }

    private static ModelConfig config(String fields) {
        return ModelConfig.parse("{" + BASE + fields + "}");
    }

    static int[] tokens(int n, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return r.ints(n, 0, vocab).toArray();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void decodeAfterPrefillAndChunkedPrefillEqualOnePrefill(String name, String fields) {
        ModelConfig c = config(fields);
        int[] tok = tokens(T, c.vocabSize(), 7);
        try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 11);
             DCFormerModel m = DCFormerModel.create(c, w, backend)) {
            float[][] whole;
            try (Session s = m.newSession()) {
                whole = s.prefill(tok);
            }
            assertThat(flatten(whole)).as("%s: logits are finite and vary", name)
                    .doesNotContain(Float.NaN).isNotEqualTo(new float[whole.length * whole[0].length]);
            try (Session s = m.newSession(T)) {
                float[][] rows = new float[T][];
                System.arraycopy(s.prefill(Arrays.copyOf(tok, 9)), 0, rows, 0, 9);
                for (int t = 9; t < T; t++) {
                    rows[t] = s.decode(tok[t]);
                }
                assertSame(name + ": prefill 9 + decode", rows, whole);
            }
            try (Session s = m.newSession()) {
                int[] cuts = {0, 3, 4, 17, 30, T};
                float[][] rows = new float[T][];
                for (int i = 0; i + 1 < cuts.length; i++) {
                    float[][] part = s.prefill(Arrays.copyOfRange(tok, cuts[i], cuts[i + 1]));
                    System.arraycopy(part, 0, rows, cuts[i], part.length);
                }
                assertSame(name + ": chunked prefill", rows, whole);
            }
            try (Session s = m.newSession(T, 8)) {
                assertSame(name + ": prefill run in pieces of 8 rows", s.prefill(tok), whole);
                assertThat(s.position()).isEqualTo(T);
            }
            try (Session s = m.newSession(T, 13)) {
                float[] last = s.prefillLast(tok);
                assertThat(maxAbs(last, whole[T - 1])).as("%s: last row in pieces of 13", name).isLessThan(1e-4);
            }
        }
    }

    @Test
    void variantsComputeDifferentFunctions() {
        String common = "\"model_type\": \"dcformer\", \"n_layer\": 2, \"window_size\": 5, \"intermediate_size\": 48, ";
        float[] dcmha = lastLogits(config(common + "\"use_qk_norm\": true"));
        float[] qw = lastLogits(config(common + "\"use_qk_norm\": true, \"query_wise\": true"));
        float[] sw = lastLogits(config(common + "\"use_qk_norm\": true, \"use_sw\": true"));
        float[] global = lastLogits(config(common.replace("\"window_size\": 5", "\"window_size\": null")
                + "\"use_qk_norm\": true"));
        assertThat(maxAbs(qw, dcmha)).as("query-wise vs full DCMHA").isGreaterThan(1e-2);
        assertThat(maxAbs(sw, dcmha)).as("static weights vs none").isGreaterThan(1e-2);
        assertThat(maxAbs(global, dcmha)).as("all global vs windows of 5").isGreaterThan(1e-2);
    }

    @Test
    void r24QuirkWidensOnlyPrefillWindows() {
        ModelConfig c = config("\"model_type\": \"dcformer\", \"n_layer\": 2, \"window_type\": \"LG\", "
                + "\"window_size\": 5, \"use_qk_norm\": true, \"intermediate_size\": 48");
        ModelConfig quirk = c.withR24PrefillWindowPlusOne(true);
        int[] tok = tokens(T, c.vocabSize(), 3);
        try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 5);
             DCFormerModel m = DCFormerModel.create(c, w, backend);
             DCFormerModel q = DCFormerModel.create(quirk, w, backend);
             Session plain = m.newSession();
             Session r24 = q.newSession();
             Session r24Chunks = q.newSession();
             Session r24Pieces = q.newSession(T, 13)) {
            float[][] a = plain.prefill(tok);
            float[][] b = r24.prefill(tok);
            for (int t = 0; t < 5; t++) {
                assertThat(maxAbs(b[t], a[t])).as("row %d sees all keys either way", t).isLessThan(1e-5);
            }
            assertThat(maxAbs(b[5], a[5])).as("row 5 sees one key more with the quirk").isGreaterThan(1e-3);
            float[][] chunked = new float[T][];
            System.arraycopy(r24Chunks.prefill(Arrays.copyOf(tok, 13)), 0, chunked, 0, 13);
            System.arraycopy(r24Chunks.prefill(Arrays.copyOfRange(tok, 13, T)), 0, chunked, 13, T - 13);
            assertSame("R24 chunked prefill", chunked, b);
            assertSame("R24 prefill in pieces of 13 (40 = 13 + 13 + 12 + 2)", r24Pieces.prefill(tok), b);
        }
    }

    private float[] lastLogits(ModelConfig c) {
        try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 11);
             DCFormerModel m = DCFormerModel.create(c, w, backend);
             Session s = m.newSession()) {
            return s.prefillLast(tokens(T, c.vocabSize(), 7));
        }
    }

    static void assertSame(String what, float[][] actual, float[][] expected) {
        float[] a = flatten(actual);
        float[] e = flatten(expected);
        double rel = relL2(a, e);
        double abs = maxAbs(a, e);
        // Prefill (packed GEMM), decode (GEMV) and chunked prefill sum in different orders, and the JIT may
        // switch kernels mid-run, so float32 rounding differs by ~1e-5 over a few layers; a real error (a
        // wrong window, a missing compose term) moves logits by 1e-2 or more.
        assertThat(rel < 5e-5 && abs < 5e-4).as("%s: rel L2 %.3g, max abs %.3g", what, rel, abs).isTrue();
    }
}
