package io.dcformer4j.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small hand-made {@code tokenizer.json} files for tests. */
public final class TinyTokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TinyTokenizers() {
    }

    /**
     * A byte-level BPE with 97 ids: {@code <|endoftext|>} (0, special), the 94 printable ASCII characters,
     * space and newline (as their byte-level characters), and no merges. Other bytes are dropped on encoding.
     */
    public static ObjectNode ascii97() {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", 0).put("content", "<|endoftext|>").put("special", true).put("normalized", false);
        root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", true);
        root.putObject("decoder").put("type", "ByteLevel");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("<|endoftext|>", 0);
        int id = 1;
        for (int b = '!'; b <= '~'; b++) {
            vocab.put(String.valueOf(ByteLevel.charOf(b)), id++);
        }
        vocab.put(String.valueOf(ByteLevel.charOf(' ')), id++);
        vocab.put(String.valueOf(ByteLevel.charOf('\n')), id);
        model.putArray("merges");
        return root;
    }

    /** Writes a tokenizer JSON tree to a file. */
    public static void write(ObjectNode root, Path file) throws IOException {
        Files.writeString(file, JSON.writeValueAsString(root));
    }

    /** Parses a tokenizer JSON tree. */
    public static Tokenizer of(ObjectNode root) {
        try {
            return Tokenizer.load(new ByteArrayInputStream(JSON.writeValueAsBytes(root)), "test tokenizer");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final java.util.Map<String, Tokenizer> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A real tokenizer from test resources: {@code gpt2}, {@code claude} or {@code qwen3} (stored
     * gzip-compressed). Loaded once per test JVM (tokenizers are immutable).
     */
    public static synchronized Tokenizer resource(String name) throws IOException {
        Tokenizer cached = LOADED.get(name);
        if (cached == null) {
            cached = loadResource(name);
            LOADED.put(name, cached);
        }
        return cached;
    }

    private static Tokenizer loadResource(String name) throws IOException {
        if (name.equals("gpt2-wsruns")) {
            return gpt2WithWhitespaceRuns();
        }
        java.io.InputStream plain = TinyTokenizers.class.getResourceAsStream("/tokenizer/" + name + "/tokenizer.json");
        if (plain != null) {
            try (plain) {
                return Tokenizer.load(plain, name);
            }
        }
        java.io.InputStream gz = TinyTokenizers.class.getResourceAsStream("/tokenizer/" + name + "/tokenizer.json.gz");
        if (gz == null) {
            throw new IllegalStateException("test resource /tokenizer/" + name + "/tokenizer.json(.gz) is missing");
        }
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(gz)) {
            return Tokenizer.load(in, name);
        }
    }

    /**
     * GPT-2 plus GPT-NeoX-style added tokens for runs of 2..24 spaces (ids 50257 + 24 - n, not special,
     * normalized) and an NFC normalizer: the rule of {@code tools/tokenizer-check/make-expected.mjs}.
     */
    private static Tokenizer gpt2WithWhitespaceRuns() throws IOException {
        ObjectNode root;
        try (java.io.InputStream in = TinyTokenizers.class.getResourceAsStream("/tokenizer/gpt2/tokenizer.json")) {
            root = (ObjectNode) JSON.readTree(in);
        }
        root.putObject("normalizer").put("type", "NFC");
        ArrayNode added = root.withArray("added_tokens");
        for (int n = 24; n >= 2; n--) {
            added.addObject().put("id", 50257 + 24 - n).put("content", " ".repeat(n)).put("special", false)
                    .put("normalized", true);
        }
        return of(root);
    }

    /** Parses tokenizer JSON text. */
    public static Tokenizer of(String json) throws IOException {
        return Tokenizer.load(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test tokenizer");
    }
}
