package io.dcformer4j.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template as Hugging Face stores it, and the special tokens a template refers to.
 * Looked for in this order (the first found wins): {@code chat_template.jinja} (the template as plain text),
 * {@code chat_template.json} ({@code {"chat_template": "..."}}), and the {@code chat_template} field of
 * {@code tokenizer_config.json} (a string, or a list of {@code {"name", "template"}} of which the one named
 * {@code default} is used). Special tokens ({@code bos_token}, {@code eos_token}, ...) come from
 * {@code tokenizer_config.json}, as a string or an {@code {"content": ...}} object.
 *
 * @param template      the Jinja source
 * @param origin        the file it came from (for logs and errors)
 * @param specialTokens the special token names a template may use ({@code bos_token} ...) and their texts
 */
record ChatTemplateSource(String template, String origin, Map<String, String> specialTokens) {
    static final String JINJA_FILE = "chat_template.jinja";
    static final String JSON_FILE = "chat_template.json";
    static final String TOKENIZER_CONFIG = "tokenizer_config.json";
    /** Larger template files are refused: real ones are a few kilobytes. */
    static final long MAX_FILE_BYTES = 1 << 20;
    private static final String[] SPECIAL_TOKENS = {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token",
            "cls_token", "mask_token"};

    /**
     * The template of model directory {@code dir}, or empty when it has none.
     *
     * @throws IllegalArgumentException naming the file when a template file is present but cannot be read
     */
    static Optional<ChatTemplateSource> find(Path dir) {
        ObjectMapper mapper = new ObjectMapper();
        Path config = dir.resolve(TOKENIZER_CONFIG);
        JsonNode tokenizerConfig = Files.isRegularFile(config) ? readJson(mapper, config) : null;
        Map<String, String> special = new LinkedHashMap<>();
        if (tokenizerConfig != null) {
            for (String name : SPECIAL_TOKENS) {
                String text = tokenText(tokenizerConfig.get(name));
                if (text != null) {
                    special.put(name, text);
                }
            }
        }
        Path jinja = dir.resolve(JINJA_FILE);
        if (Files.isRegularFile(jinja)) {
            return Optional.of(new ChatTemplateSource(readText(jinja), jinja.toString(), Map.copyOf(special)));
        }
        Path json = dir.resolve(JSON_FILE);
        if (Files.isRegularFile(json)) {
            String t = template(readJson(mapper, json).get("chat_template"), json);
            if (t == null) {
                throw new IllegalArgumentException(json + " has no 'chat_template' string");
            }
            return Optional.of(new ChatTemplateSource(t, json.toString(), Map.copyOf(special)));
        }
        if (tokenizerConfig != null) {
            String t = template(tokenizerConfig.get("chat_template"), config);
            if (t != null) {
                return Optional.of(new ChatTemplateSource(t, config.toString(), Map.copyOf(special)));
            }
        }
        return Optional.empty();
    }

    /** A template field: a string, or named templates of which {@code default} is taken. */
    private static String template(JsonNode node, Path file) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isArray()) {
            for (JsonNode named : node) {
                if (named.isObject() && "default".equals(named.path("name").asText(null)) && named.path("template").isTextual()) {
                    return named.get("template").textValue();
                }
            }
            throw new IllegalArgumentException(file + ": 'chat_template' is a list of named templates without one named"
                    + " 'default'");
        }
        throw new IllegalArgumentException(file + ": 'chat_template' must be a string or a list of named templates, got "
                + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT));
    }

    /** A special token: {@code "<s>"} or {@code {"content": "<s>", ...}} (an AddedToken); null when absent. */
    private static String tokenText(JsonNode node) {
        if (node == null) {
            return null;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isObject() && node.path("content").isTextual()) {
            return node.get("content").textValue();
        }
        return null;
    }

    private static JsonNode readJson(ObjectMapper mapper, Path file) {
        try {
            JsonNode node = mapper.readTree(readText(file));
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + " must hold a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String readText(Path file) {
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException(file + " is larger than " + MAX_FILE_BYTES + " bytes");
            }
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
