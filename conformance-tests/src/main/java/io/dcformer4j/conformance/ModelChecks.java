package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.Session;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The golden outputs of the official DCFormer reference (tiny DCFormer++ model: 4 layers, local and global,
 * mgate, qk-norm) run through {@link DCFormerModel} on the backend under test: one prefill, chunked
 * prefill, decode after prefill, BF16 weights, and independence from the worker count.
 */
abstract class ModelChecks extends Checks {
    private static final int CONTEXT = 64;

    private float[][] prefill(Backend b, Path dir, int[] tokens, int... chunks) {
        return prefill(b, dir, null, tokens, chunks);
    }

    /** As above, recording every layer's output into a new trace when {@code trace} is non-null. */
    private float[][] prefill(Backend b, Path dir, LayerTrace[] trace, int[] tokens, int... chunks) {
        try (DCFormerModel model = DCFormerModel.load(dir, b); Session session = model.newSession(CONTEXT)) {
            if (trace != null) {
                trace[0] = new LayerTrace(model.config(), tokens.length);
                session.setLayerObserver(trace[0]);
            }
            float[][] out = new float[tokens.length][];
            int start = 0;
            for (int chunk : chunks) {
                float[][] logits = session.prefill(Arrays.copyOfRange(tokens, start, start + chunk));
                System.arraycopy(logits, 0, out, start, chunk);
                start += chunk;
            }
            return out;
        }
    }

    /**
     * Checks logits against the golden ones; on failure adds which layer first left the reference
     * ({@link LayerTrace}), so the message names a layer and its ops.
     */
    private static void assertMatchesByLayer(String what, float[][] actual, float[][] expected, LayerTrace trace, GoldenModel golden,
                                             int layers) {
        try {
            GoldenModel.assertMatches(what, actual, expected);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; " + trace.diagnose(golden.layerOutputs(layers)), e);
        }
    }

    private static final int LAYERS = 4;

    @Test
    void modelGoldenPrefill40() {
        try (GoldenModel golden = new GoldenModel()) {
            LayerTrace[] trace = new LayerTrace[1];
            float[][] logits = prefill(backend(), golden.f32Dir, trace, golden.tokens, 40);
            assertMatchesByLayer("DCFormerModel prefill of 40 tokens vs official prefill_logits", logits, golden.logits("prefill_logits"),
                    trace[0], golden, LAYERS);
        }
    }

    @Test
    void modelGoldenPrefill24ThenDecode16() {
        try (GoldenModel golden = new GoldenModel();
             DCFormerModel model = DCFormerModel.load(golden.f32Dir, backend());
             Session session = model.newSession(CONTEXT)) {
            LayerTrace trace = new LayerTrace(model.config(), golden.tokens.length);
            session.setLayerObserver(trace);
            float[][] first = session.prefill(Arrays.copyOf(golden.tokens, 24));
            assertMatchesByLayer("prefill of 24 tokens vs official prefill24_logits", first, golden.logits("prefill24_logits"), trace, golden,
                    LAYERS);
            float[][] decoded = new float[16][];
            for (int i = 0; i < 16; i++) {
                decoded[i] = session.decode(golden.tokens[24 + i]);
            }
            assertMatchesByLayer("16 decode steps after the 24-token prefill vs official decode_logits", decoded,
                    golden.logits("decode_logits"), trace, golden, LAYERS);
            GoldenModel.assertMatches("decode after prefill vs the official one-prefill logits of positions 24..39", decoded,
                    GoldenModel.rows(golden.logits("prefill_logits"), 24, 40));
        }
    }

    @Test
    void modelGoldenChunkedPrefill() {
        try (GoldenModel golden = new GoldenModel()) {
            LayerTrace[] trace = new LayerTrace[1];
            float[][] logits = prefill(backend(), golden.f32Dir, trace, golden.tokens, 17, 1, 22);
            assertMatchesByLayer("chunked prefill 17 + 1 + 22 tokens vs official prefill_logits", logits, golden.logits("prefill_logits"),
                    trace[0], golden, LAYERS);
        }
    }

    @Test
    void modelGoldenBf16WeightsPrefill40() {
        try (GoldenModel golden = new GoldenModel()) {
            GoldenModel.assertMatches("prefill of 40 tokens with BF16 weights vs official prefill_logits_bf16weights",
                    prefill(backend(), golden.bf16Dir, golden.tokens, 40), golden.logits("prefill_logits_bf16weights"));
        }
    }

    @Test
    void modelAgreesAcrossWorkerCounts() {
        try (GoldenModel golden = new GoldenModel()) {
            float[][] one = prefill(tck().open(1), golden.f32Dir, golden.tokens, 40);
            float[][] two = prefill(backend(), golden.f32Dir, golden.tokens, 40);
            GoldenModel.assertMatches("model logits with 2 workers vs 1 worker", two, one);
        }
    }
}
