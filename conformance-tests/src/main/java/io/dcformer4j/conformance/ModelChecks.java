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
        try (DCFormerModel model = DCFormerModel.load(dir, b); Session session = model.newSession(CONTEXT)) {
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

    @Test
    void modelGoldenPrefill40() {
        try (GoldenModel golden = new GoldenModel()) {
            GoldenModel.assertMatches("DCFormerModel prefill of 40 tokens vs official prefill_logits",
                    prefill(backend(), golden.f32Dir, golden.tokens, 40), golden.logits("prefill_logits"));
        }
    }

    @Test
    void modelGoldenPrefill24ThenDecode16() {
        try (GoldenModel golden = new GoldenModel();
             DCFormerModel model = DCFormerModel.load(golden.f32Dir, backend());
             Session session = model.newSession(CONTEXT)) {
            float[][] first = session.prefill(Arrays.copyOf(golden.tokens, 24));
            GoldenModel.assertMatches("prefill of 24 tokens vs official prefill24_logits", first, golden.logits("prefill24_logits"));
            float[][] decoded = new float[16][];
            for (int i = 0; i < 16; i++) {
                decoded[i] = session.decode(golden.tokens[24 + i]);
            }
            GoldenModel.assertMatches("16 decode steps after the 24-token prefill vs official decode_logits", decoded,
                    golden.logits("decode_logits"));
            GoldenModel.assertMatches("decode after prefill vs the official one-prefill logits of positions 24..39", decoded,
                    GoldenModel.rows(golden.logits("prefill_logits"), 24, 40));
        }
    }

    @Test
    void modelGoldenChunkedPrefill() {
        try (GoldenModel golden = new GoldenModel()) {
            GoldenModel.assertMatches("chunked prefill 17 + 1 + 22 tokens vs official prefill_logits",
                    prefill(backend(), golden.f32Dir, golden.tokens, 17, 1, 22), golden.logits("prefill_logits"));
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
