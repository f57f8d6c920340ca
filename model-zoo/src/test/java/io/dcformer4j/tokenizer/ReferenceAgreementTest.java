package io.dcformer4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Compares our ids with those of an independent implementation (Hugging Face tokenizers.js, see
 * {@code tools/tokenizer-check}) on a multilingual corpus — code, emoji, CJK, whitespace runs, special
 * tokens, accents — for three real vocabularies: GPT-2, a GPT-2-regex byte-level BPE with NFKC (Claude), and
 * Qwen3 (Qwen2 family: Split pre-tokenizer with its own regex, NFC, array-form merges); plus GPT-2 with
 * GPT-NeoX-style added whitespace-run tokens, which exercises added-token matching.
 */
class ReferenceAgreementTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "gpt2-wsruns", "claude", "qwen3"})
    void idsAndDecodingAgreeWithTheReference(String name) throws Exception {
        Tokenizer tok = TinyTokenizers.resource(name);
        JsonNode expected;
        try (InputStream in = resource(name + "/expected.json")) {
            expected = JSON.readTree(in);
        }
        int cases = 0;
        int agreeing = 0;
        long tokens = 0;
        long chars = 0;
        List<String> failures = new ArrayList<>();
        for (JsonNode c : expected.get("cases")) {
            String text = c.get("text").asText();
            int[] want = new int[c.get("ids").size()];
            for (int i = 0; i < want.length; i++) {
                want[i] = c.get("ids").get(i).asInt();
            }
            int[] got = tok.encode(text);
            cases++;
            tokens += want.length;
            chars += text.length();
            if (Arrays.equals(got, want)) {
                agreeing++;
            } else if (failures.size() < 5) {
                failures.add(text + "\n   expected " + Arrays.toString(want) + "\n   got      " + Arrays.toString(got));
            }
            assertThat(tok.decode(want)).as("decode of %s", text).isEqualTo(c.get("decoded").asText());
        }
        System.out.printf("tokenizer agreement %s: %d/%d texts identical (%d reference tokens, %d chars, %d corpus lines)%n",
                name, agreeing, cases, tokens, chars, expected.get("corpus_lines").asInt());
        assertThat(failures).as("texts whose ids differ from the reference").isEmpty();
        assertThat(cases).isGreaterThan(200);
    }

    private static InputStream resource(String path) {
        InputStream in = ReferenceAgreementTest.class.getResourceAsStream("/tokenizer/" + path);
        assertThat(in).as("test resource /tokenizer/%s", path).isNotNull();
        return in;
    }
}
