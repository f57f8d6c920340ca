package io.dcformer4j.tokenizer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;

/**
 * Coverage-guided fuzz target for the {@code tokenizer.json} reader: the fuzzer's input is the file.
 *
 * <p>Invariant, for every input: {@link Tokenizer#load(java.io.InputStream, String)} either returns a
 * tokenizer that can encode and decode a few fixed texts (and decode each of its first ids, or refuse an
 * unassigned one with {@link IllegalArgumentException}), or throws an {@link IllegalArgumentException} whose
 * message names the file. Any other exception, an input needing more than the fuzzing heap (1 GB), or one
 * that takes longer than the per-input timeout (10 s) to load or to encode the fixed texts (a pre-tokenizer
 * regex that backtracks without end, for instance) is a finding.
 */
class TokenizerJsonFuzzTest {

    private static final String ORIGIN = "fuzz/tokenizer.json";
    private static final String[] TEXTS = {"", "Hello world", "  two  spaces\n\ttab", "h\u00e9llo \u4e16\u754c \ud83d\ude00",
        "<|endoftext|>x<|endoftext|>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"};

    @FuzzTest
    void tokenizerJson(byte[] input) throws IOException {
        Tokenizer tok;
        try {
            tok = Tokenizer.load(new ByteArrayInputStream(input), ORIGIN);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || !e.getMessage().contains(ORIGIN)) {
                throw new AssertionError("refusal does not name " + ORIGIN + ": " + e.getMessage(), e);
            }
            return;
        }
        for (String text : TEXTS) {
            int[] ids = tok.encode(text);
            TokenizerFuzzChecks.validIds(tok, ids);
            TokenizerFuzzChecks.streamingMatchesBatch(tok, ids);
        }
        for (int id = 0; id < Math.min(tok.vocabSize(), 256); id++) {
            try {
                tok.decode(new int[] {id});
            } catch (IllegalArgumentException e) {
                TokenizerFuzzChecks.unassigned(tok, id, e);
            }
        }
    }
}
