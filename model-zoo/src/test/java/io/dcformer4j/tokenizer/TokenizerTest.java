package io.dcformer4j.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Features of the tokenizer on the real GPT-2 vocabulary and on hand-made files. */
class TokenizerTest {
    private static Tokenizer gpt2;
    private static Tokenizer qwen;

    @BeforeAll
    static void load() throws Exception {
        gpt2 = TinyTokenizers.resource("gpt2");
        qwen = TinyTokenizers.resource("qwen3");
    }

    @Test
    void gpt2KnownIds() {
        assertThat(gpt2.encode("Hello world")).containsExactly(15496, 995);
        assertThat(gpt2.encode("<|endoftext|>")).containsExactly(50256);
        assertThat(gpt2.isSpecial(50256)).isTrue();
        assertThat(gpt2.isSpecial(15496)).isFalse();
        assertThat(gpt2.vocabSize()).isEqualTo(50257);
        assertThat(gpt2.token(995)).isEqualTo("Ġworld");
        assertThat(gpt2.tokenId("Ġworld")).hasValue(995);
    }

    @Test
    void noSpecialTokensAreAdded() {
        int[] ids = gpt2.encode("a");
        assertThat(ids).hasSize(1);
        assertThat(gpt2.encode("")).isEmpty();
    }

    @Test
    void streamingNeverEmitsHalfACharacter() {
        String text = "emoji 😀👨‍👩‍👧 CJK 你好世界 ü";
        for (Tokenizer tok : List.of(gpt2, qwen)) {
            int[] ids = tok.encode(text);
            StreamingDecoder d = tok.newStreamingDecoder();
            StringBuilder sb = new StringBuilder();
            List<String> pieces = new ArrayList<>();
            for (int id : ids) {
                String p = d.push(id);
                pieces.add(p);
                sb.append(p);
            }
            sb.append(d.flush());
            assertThat(sb.toString()).isEqualTo(text);
            for (String p : pieces) {
                assertThat(p).doesNotContain("\uFFFD");
                if (!p.isEmpty()) {
                    assertThat(Character.isLowSurrogate(p.charAt(0))).as("piece starts inside a surrogate pair").isFalse();
                    assertThat(Character.isHighSurrogate(p.charAt(p.length() - 1))).isFalse();
                }
            }
        }
        // The emoji is several byte tokens in GPT-2: some pushes must hold bytes back.
        int[] emoji = gpt2.encode("😀");
        assertThat(emoji.length).isGreaterThan(1);
        StreamingDecoder d = gpt2.newStreamingDecoder();
        assertThat(d.push(emoji[0])).isEmpty();
    }

    @Test
    void truncatedSequenceFlushesAsReplacementCharacter() {
        int[] emoji = gpt2.encode("😀");
        StreamingDecoder d = gpt2.newStreamingDecoder();
        d.push(emoji[0]);
        assertThat(d.flush()).isEqualTo("\uFFFD");
        assertThat(gpt2.decode(new int[] {emoji[0]})).isEqualTo("\uFFFD");
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        int[] ids = gpt2.encode("Hi<|endoftext|>there");
        assertThat(gpt2.decode(ids)).isEqualTo("Hi<|endoftext|>there");
        assertThat(gpt2.decode(ids, true)).isEqualTo("Hithere");
    }

    @Test
    void encodingIsFastEnoughWithTheWordCache() {
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(2000);
        int[] ids = gpt2.encode(text);
        // "The" then " quick" ... " dog", "." per sentence, and the final space alone.
        assertThat(ids).hasSize(10 * 2000 + 1);
        assertThat(gpt2.decode(ids)).isEqualTo(text);
    }

    @Test
    void neoxStyleWhitespaceAddedTokensAreMatchedLongestFirst() {
        ObjectNode root = TinyTokenizers.ascii97();
        var added = root.withArray("added_tokens");
        added.addObject().put("id", 97).put("content", "  ").put("special", false).put("normalized", true);
        added.addObject().put("id", 98).put("content", "   ").put("special", false).put("normalized", true);
        Tokenizer tok = TinyTokenizers.of(root);
        int a = tok.tokenId("a").getAsInt();
        int sp = tok.tokenId("Ġ").getAsInt();
        // "a" + three spaces (98) + two spaces (97) + "a"
        assertThat(tok.encode("a     a")).containsExactly(a, 98, 97, a);
        assertThat(tok.encode("a a")).containsExactly(a, sp, a);
        assertThat(tok.decode(tok.encode("a     a"))).isEqualTo("a     a");
        assertThat(tok.isSpecial(97)).isFalse();
    }

    @Test
    void lstripAndRstripAbsorbWhitespace() {
        ObjectNode root = TinyTokenizers.ascii97();
        root.withArray("added_tokens").addObject().put("id", 97).put("content", "<m>").put("special", true)
                .put("lstrip", true).put("rstrip", true).put("normalized", false);
        Tokenizer tok = TinyTokenizers.of(root);
        assertThat(tok.encode("x  <m>  y")).containsExactly(tok.tokenId("x").getAsInt(), 97, tok.tokenId("y").getAsInt());
    }

    @Test
    void mergesInArrayFormAndIgnoreMerges() throws Exception {
        ObjectNode root = TinyTokenizers.ascii97();
        ObjectNode model = (ObjectNode) root.get("model");
        ((ObjectNode) model.get("vocab")).put("ab", 97).put("abc", 98).put("bc", 99);
        var merges = model.putArray("merges");
        merges.addArray().add("b").add("c");
        merges.addArray().add("a").add("bc");
        Tokenizer tok = TinyTokenizers.of(root);
        assertThat(tok.encode("abc")).containsExactly(98);
        // "ab" is in the vocabulary but no merge makes it: BPE gives a, b unless ignore_merges.
        assertThat(tok.encode("ab")).containsExactly(tok.tokenId("a").getAsInt(), tok.tokenId("b").getAsInt());
        model.put("ignore_merges", true);
        assertThat(TinyTokenizers.of(root).encode("ab")).containsExactly(97);
    }

    @Test
    void splitBehaviours() {
        java.util.regex.Pattern digits = java.util.regex.Pattern.compile("\\d");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.ISOLATED, false).apply("ab12c"))
                .containsExactly("ab", "1", "2", "c");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.REMOVED, false).apply("ab12c"))
                .containsExactly("ab", "c");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.MERGED_WITH_PREVIOUS, false).apply("ab12c"))
                .containsExactly("ab12", "c");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.MERGED_WITH_NEXT, false).apply("ab12c"))
                .containsExactly("ab", "12c");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.CONTIGUOUS, false).apply("ab12c"))
                .containsExactly("ab", "12", "c");
        assertThat(new SplitPreTokenizer(digits, SplitPreTokenizer.Behavior.REMOVED, true).apply("ab12c"))
                .containsExactly("1", "2");
    }

    @Test
    void withoutADecoderTokensAreJoinedWithSpaces() throws Exception {
        Tokenizer tok = TinyTokenizers.of("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": []}}");
        assertThat(tok.encode("ab")).containsExactly(0, 1);
        assertThat(tok.decode(new int[] {0, 1, 0})).isEqualTo("a b a");
        StreamingDecoder d = tok.newStreamingDecoder();
        assertThat(d.push(0) + d.push(1) + d.push(0) + d.flush()).isEqualTo("a b a");
    }

    @Test
    void idsBeyondTheLimitAreRefusedBeforeTheTableIsAllocated() {
        // Each once failed otherwise: an ArrayIndexOutOfBoundsException (id + 1 overflowed) or a 16 GB table.
        assertThatThrownBy(() -> TinyTokenizers.of("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 2147483647}, \"merges\": []}}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("test tokenizer")
                .hasMessageContaining("model.vocab['a']").hasMessageContaining("16777216");
        assertThatThrownBy(() -> TinyTokenizers.of("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []},"
                + " \"added_tokens\": [{\"id\": 2000000000, \"content\": \"x\"}]}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("added_tokens");
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedNamingTheFile() {
        // Found by fuzzing: zeros made Jackson guess UTF-32 and throw a CharConversionException naming nothing.
        byte[] utf32ish = {'{', 0, 0, 0, '"', 0, 0, 0, (byte) 0xFF, (byte) 0xFE, 0, 0};
        assertThatThrownBy(() -> Tokenizer.load(new java.io.ByteArrayInputStream(utf32ish), "odd.json"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("odd.json");
        byte[] latin1 = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\u00e9\": 0}, \"merges\": []}}"
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> Tokenizer.load(new java.io.ByteArrayInputStream(latin1), "latin1.json"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("latin1.json")
                .hasMessageContaining("not UTF-8");
    }

    @Test
    void invalidFilesNameTheProblem() {
        assertThatThrownBy(() -> TinyTokenizers.of("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}"))
                .hasMessageContaining("model.type 'Unigram'");
        assertThatThrownBy(() -> TinyTokenizers.of("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}"))
                .hasMessageContaining("merges[0]").hasMessageContaining("missing from the vocabulary: b");
        assertThatThrownBy(() -> TinyTokenizers.of("{not json")).hasMessageContaining("not valid JSON");
        ObjectNode root = TinyTokenizers.ascii97();
        root.putObject("pre_tokenizer").put("type", "Metaspace");
        assertThatThrownBy(() -> TinyTokenizers.of(root)).hasMessageContaining("pre_tokenizer.type 'Metaspace'");
        assertThatThrownBy(() -> gpt2.token(50257)).hasMessageContaining("50257");
    }
}
