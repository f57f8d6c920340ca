package io.dcformer4j.tokenizer;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzz target for encoding and decoding with real tokenizers (GPT-2 and Qwen3 from the test
 * resources): the fuzzer picks the tokenizer, a text, and a run of arbitrary ids.
 *
 * <p>Invariant, for every input: encoding any string gives ids inside the vocabulary; with GPT-2 (byte-level,
 * no normalizer) decoding them gives the text back exactly, after the UTF-8 round trip that turns an unpaired
 * surrogate into {@code ?}; decoding arbitrary ids gives text, or an {@link IllegalArgumentException} naming
 * an id outside the vocabulary or unassigned; streaming decode always equals batch decode. Any other exception,
 * an input needing more than the fuzzing heap (1 GB) or more than the per-input timeout (10 s) is a finding.
 */
class TokenizerFuzzTest {

    static Tokenizer gpt2;
    static Tokenizer qwen3;

    @BeforeAll
    static void load() throws IOException {
        gpt2 = TinyTokenizers.resource("gpt2");
        qwen3 = TinyTokenizers.resource("qwen3");
    }

    @FuzzTest
    void encodeDecode(FuzzedDataProvider data) {
        boolean useGpt2 = data.consumeBoolean();
        Tokenizer tok = useGpt2 ? gpt2 : qwen3;
        String text = data.consumeString(2000);
        int[] ids = tok.encode(text);
        TokenizerFuzzChecks.validIds(tok, ids);
        if (useGpt2) {
            String expected = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            String decoded = tok.decode(ids);
            if (!decoded.equals(expected)) {
                throw new AssertionError("GPT-2 round trip changed the text: '" + expected + "' -> '" + decoded + "'");
            }
        }
        TokenizerFuzzChecks.streamingMatchesBatch(tok, ids);

        int[] arbitrary = data.consumeInts(64);
        for (int i = 0; i < arbitrary.length; i++) {
            // Mostly ids near the vocabulary, where decoding has something to do.
            arbitrary[i] = i % 4 == 3 ? arbitrary[i] : Math.floorMod(arbitrary[i], tok.vocabSize() + 8);
        }
        try {
            TokenizerFuzzChecks.streamingMatchesBatch(tok, arbitrary);
        } catch (IllegalArgumentException e) {
            for (int id : arbitrary) {
                try {
                    tok.token(id);
                } catch (IllegalArgumentException refused) {
                    TokenizerFuzzChecks.unassigned(tok, id, e);
                    return;
                }
            }
            throw new AssertionError("decode refused ids that all have tokens: " + e.getMessage(), e);
        }
    }
}
