package io.dcformer4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.model.checkpoint.JsonErrors;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/** Builds a {@link Tokenizer} from the JSON of a Hugging Face {@code tokenizer.json}. */
final class TokenizerJsonReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Ids must be below this (16.7 million; the largest real vocabularies have a few hundred thousand): the
     * id-to-token table is as long as the largest id, so an unbounded id let a few bytes of JSON demand gigabytes.
     */
    static final int MAX_ID = 1 << 24;

    private TokenizerJsonReader() {
    }

    static Tokenizer read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
            return read(in, file.toString());
        }
    }

    static Tokenizer read(InputStream in, String origin) throws IOException {
        JsonNode root;
        // tokenizer.json is UTF-8. Left to guess, Jackson took bytes with zeros for UTF-32 and failed with a bare
        // CharConversionException (an IOException naming nothing) on malformed ones.
        Reader utf8 = new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));
        try {
            root = JSON.readTree(utf8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(origin + ": not valid JSON: " + JsonErrors.describe(e), e);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(origin + ": not UTF-8 text (" + e.getMessage() + ")", e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(origin + ": expected a JSON object at the top level");
        }
        try {
            return build(root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(origin + ": " + e.getMessage(), e);
        }
    }

    private static Tokenizer build(JsonNode root) {
        JsonNode modelNode = required(root, "model");
        String type = modelNode.path("type").asText("BPE");
        if (!type.equals("BPE")) {
            throw new IllegalArgumentException("model.type '" + type + "' is not supported (only BPE)");
        }
        Map<String, Integer> vocab = readVocab(required(modelNode, "vocab"));
        for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
            String v = modelNode.path(affix).asText("");
            if (!v.isEmpty()) {
                throw new IllegalArgumentException("model." + affix + " '" + v + "' is not supported (only empty)");
            }
        }
        List<AddedToken> added = readAddedTokens(root.path("added_tokens"));
        int size = 0;
        for (int id : vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : added) {
            size = Math.max(size, t.id() + 1);
        }
        String[] idToToken = new String[size]; // [V]
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        Map<String, Integer> tokenToId = new HashMap<>(vocab);
        for (AddedToken t : added) {
            idToToken[t.id()] = t.content();
            tokenToId.put(t.content(), t.id());
        }
        Map<Long, Long> merges = readMerges(required(modelNode, "merges"), vocab);
        int unkId = -1;
        JsonNode unk = modelNode.path("unk_token");
        if (unk.isTextual()) {
            Integer id = tokenToId.get(unk.asText());
            if (id == null) {
                throw new IllegalArgumentException("model.unk_token '" + unk.asText() + "' is not in the vocabulary");
            }
            unkId = id;
        }
        BpeModel model = new BpeModel(vocab, merges, modelNode.path("ignore_merges").asBoolean(false),
                modelNode.path("byte_fallback").asBoolean(false), unkId, modelNode.path("fuse_unk").asBoolean(false));
        return new Tokenizer(normalizer(root.path("normalizer"), "normalizer"),
                preTokenizer(root.path("pre_tokenizer"), "pre_tokenizer"), model, added, tokenToId, idToToken,
                decoding(root.path("decoder"), "decoder"));
    }

    private static Map<String, Integer> readVocab(JsonNode node) {
        if (!node.isObject()) {
            throw new IllegalArgumentException("model.vocab must be an object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(node.size() * 2);
        for (var it = node.properties().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0 || e.getValue().asInt() >= MAX_ID) {
                throw new IllegalArgumentException("model.vocab['" + e.getKey() + "'] must be an id in [0, " + MAX_ID
                        + "), got " + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    private static Map<Long, Long> readMerges(JsonNode node, Map<String, Integer> vocab) {
        if (!node.isArray()) {
            throw new IllegalArgumentException("model.merges must be an array");
        }
        Map<Long, Long> merges = new HashMap<>(node.size() * 2);
        int rank = 0;
        for (JsonNode m : node) {
            String a;
            String b;
            if (m.isTextual()) {
                String s = m.asText();
                int sp = s.indexOf(' ');
                if (sp <= 0 || sp == s.length() - 1 || s.indexOf(' ', sp + 1) >= 0) {
                    throw new IllegalArgumentException("model.merges[" + rank + "] '" + s + "' is not two tokens separated by one space");
                }
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else if (m.isArray() && m.size() == 2) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw new IllegalArgumentException("model.merges[" + rank + "] must be \"a b\" or [\"a\", \"b\"], got " + m);
            }
            Integer ia = vocab.get(a);
            Integer ib = vocab.get(b);
            Integer merged = vocab.get(a + b);
            if (ia == null || ib == null || merged == null) {
                throw new IllegalArgumentException("model.merges[" + rank + "] (" + a + ", " + b + ") uses a token missing from the vocabulary: "
                        + (ia == null ? a : ib == null ? b : a + b));
            }
            merges.putIfAbsent(BpeModel.pack(ia, ib), BpeModel.pack(rank, merged));
            rank++;
        }
        return merges;
    }

    private static List<AddedToken> readAddedTokens(JsonNode node) {
        List<AddedToken> out = new ArrayList<>();
        if (node.isMissingNode() || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw new IllegalArgumentException("added_tokens must be an array");
        }
        for (JsonNode t : node) {
            if (!t.path("id").canConvertToInt() || t.path("id").asInt() < 0 || t.path("id").asInt() >= MAX_ID
                    || !t.path("content").isTextual()) {
                throw new IllegalArgumentException("added_tokens entry needs an id in [0, " + MAX_ID + ") and a content: " + t);
            }
            out.add(new AddedToken(t.path("id").asInt(), t.path("content").asText(), t.path("special").asBoolean(false),
                    t.path("single_word").asBoolean(false), t.path("lstrip").asBoolean(false),
                    t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(true)));
        }
        return out;
    }

    private static Normalizer normalizer(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) {
            return Normalizer.IDENTITY;
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "NFC" -> Normalizer.unicode(Form.NFC);
            case "NFD" -> Normalizer.unicode(Form.NFD);
            case "NFKC" -> Normalizer.unicode(Form.NFKC);
            case "NFKD" -> Normalizer.unicode(Form.NFKD);
            case "Lowercase" -> Normalizer.lowercase();
            case "Prepend" -> Normalizer.prepend(n.path("prepend").asText());
            case "Replace" -> {
                JsonNode p = n.path("pattern");
                if (!p.path("String").isTextual()) {
                    throw new IllegalArgumentException(where + ": Replace with a regex pattern is not supported, got " + p);
                }
                yield Normalizer.replace(p.path("String").asText(), n.path("content").asText());
            }
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                int i = 0;
                for (JsonNode s : n.path("normalizers")) {
                    steps.add(normalizer(s, where + ".normalizers[" + i++ + "]"));
                }
                yield Normalizer.sequence(steps);
            }
            default -> throw new IllegalArgumentException(where + ".type '" + type
                    + "' is not supported (NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, Sequence)");
        };
    }

    private static PreTokenizer preTokenizer(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) {
            return PreTokenizer.NONE;
        }
        String type = n.path("type").asText();
        return switch (type) {
            case "ByteLevel" -> new ByteLevelPreTokenizer(n.path("add_prefix_space").asBoolean(false),
                    n.path("use_regex").asBoolean(true));
            case "Split" -> {
                JsonNode p = n.path("pattern");
                Pattern pattern;
                if (p.path("Regex").isTextual()) {
                    pattern = RegexTranslator.compile(p.path("Regex").asText());
                } else if (p.path("String").isTextual()) {
                    pattern = Pattern.compile(Pattern.quote(p.path("String").asText()));
                } else {
                    throw new IllegalArgumentException(where + ".pattern must hold a Regex or a String, got " + p);
                }
                yield new SplitPreTokenizer(pattern, SplitPreTokenizer.Behavior.parse(n.path("behavior").asText("Isolated")),
                        n.path("invert").asBoolean(false));
            }
            case "Digits" -> new SplitPreTokenizer(Pattern.compile(n.path("individual_digits").asBoolean(false) ? "\\p{N}" : "\\p{N}+"),
                    SplitPreTokenizer.Behavior.ISOLATED, false);
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                int i = 0;
                for (JsonNode s : n.path("pretokenizers")) {
                    steps.add(preTokenizer(s, where + ".pretokenizers[" + i++ + "]"));
                }
                yield PreTokenizer.sequence(steps);
            }
            default -> throw new IllegalArgumentException(where + ".type '" + type
                    + "' is not supported (ByteLevel, Split, Digits, Sequence)");
        };
    }

    private static Tokenizer.Decoding decoding(JsonNode n, String where) {
        if (n.isMissingNode() || n.isNull()) {
            return Tokenizer.Decoding.JOIN_WITH_SPACES;
        }
        String type = n.path("type").asText();
        if (type.equals("ByteLevel")) {
            return Tokenizer.Decoding.BYTE_LEVEL;
        }
        if (type.equals("Sequence")) {
            for (JsonNode d : n.path("decoders")) {
                if (d.path("type").asText().equals("ByteLevel")) {
                    return Tokenizer.Decoding.BYTE_LEVEL;
                }
            }
        }
        throw new IllegalArgumentException(where + ".type '" + type + "' is not supported (ByteLevel)");
    }

    private static JsonNode required(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("missing field '" + field + "'");
        }
        return n;
    }
}
