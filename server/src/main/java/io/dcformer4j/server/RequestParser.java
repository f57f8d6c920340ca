package io.dcformer4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Validates OpenAI request bodies into {@link GenerationRequest}s. Fields follow the OpenAI API, with its
 * defaults: {@code temperature} 1, {@code top_p} 1, {@code max_tokens} 16 for completions and the rest of
 * the context for chat; without {@code seed} a random one is drawn. Unknown fields are ignored, as OpenAI
 * clients send optional ones freely; unsupported values of known ones are refused, naming the field.
 */
final class RequestParser {
    static final int MAX_STOP = 4;
    static final int MAX_TOP_LOGPROBS = 20;
    private static final int COMPLETION_DEFAULT_MAX_TOKENS = 16;
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant");

    private final String modelId;
    private final Tokenizer tokenizer;
    private final int contextSize;
    private final int vocabSize;
    private final ChatFormat chatFormat;

    RequestParser(String modelId, Tokenizer tokenizer, int contextSize, int vocabSize, ChatFormat chatFormat) {
        this.modelId = modelId;
        this.tokenizer = tokenizer;
        this.contextSize = contextSize;
        this.vocabSize = vocabSize;
        this.chatFormat = chatFormat;
    }

    /** {@code POST /v1/completions}. */
    GenerationRequest completion(ObjectNode body, long arrival) {
        String model = model(body);
        Fields.requireSingleChoice(body);
        int[] prompt;
        String promptText;
        JsonNode p = Fields.get(body, "prompt");
        if (p == null) {
            throw ApiException.badField("prompt", "Missing required parameter: 'prompt'");
        }
        if (p.isArray() && p.size() == 1 && (p.get(0).isTextual() || p.get(0).isArray())) {
            p = p.get(0); // a batch of one prompt
        }
        if (p.isTextual()) {
            promptText = p.textValue();
            prompt = tokenizer.encode(promptText);
        } else if (p.isArray() && allInts(p)) {
            prompt = new int[p.size()];
            for (int i = 0; i < prompt.length; i++) {
                int id = p.get(i).intValue();
                if (id < 0 || id >= vocabSize) {
                    throw ApiException.badField("prompt", "'prompt' token " + i + " is " + id + ", outside the model's vocabulary [0, "
                            + vocabSize + ")");
                }
                prompt[i] = id;
            }
            promptText = tokenizer.decode(prompt);
        } else if (p.isArray()) {
            throw ApiException.badField("prompt", "'prompt' must be a string, an array of token ids, or a batch of one of those;"
                    + " batches of several prompts are not supported: send one prompt per request");
        } else {
            throw ApiException.badField("prompt", "'prompt' must be a string or an array of token ids, got " + Fields.kind(p));
        }
        checkPrompt(prompt, "prompt");
        Integer maxTokens = Fields.integer(body, "max_tokens", 1, Integer.MAX_VALUE);
        int max = maxTokens(prompt.length, maxTokens, "max_tokens", COMPLETION_DEFAULT_MAX_TOKENS);
        Integer logprobs = Fields.integer(body, "logprobs", 0, MAX_TOP_LOGPROBS);
        boolean echo = Fields.bool(body, "echo", false);
        GenerationConfig config = sampling(body, max, List.of());
        boolean stream = Fields.bool(body, "stream", false);
        return new GenerationRequest(model, prompt, promptText, config, logprobs == null ? -1 : logprobs, echo, stream,
                includeUsage(body, stream), arrival);
    }

    /** {@code POST /v1/chat/completions}. */
    GenerationRequest chat(ObjectNode body, long arrival) {
        String model = model(body);
        Fields.requireSingleChoice(body);
        List<ChatFormat.Message> messages = messages(body);
        String promptText = chatFormat.render(messages);
        int[] prompt = tokenizer.encode(promptText);
        checkPrompt(prompt, "messages");
        Integer maxTokens = Fields.integer(body, "max_completion_tokens", 1, Integer.MAX_VALUE);
        String maxField = "max_completion_tokens";
        if (maxTokens == null) {
            maxTokens = Fields.integer(body, "max_tokens", 1, Integer.MAX_VALUE);
            maxField = "max_tokens";
        }
        int max = maxTokens(prompt.length, maxTokens, maxField, Integer.MAX_VALUE);
        int top = -1;
        Integer topLogprobs = Fields.integer(body, "top_logprobs", 0, MAX_TOP_LOGPROBS);
        if (Fields.bool(body, "logprobs", false)) {
            top = topLogprobs == null ? 0 : topLogprobs;
        } else if (topLogprobs != null) {
            throw ApiException.badField("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
        }
        GenerationConfig config = sampling(body, max, chatFormat.stopStrings());
        boolean stream = Fields.bool(body, "stream", false);
        return new GenerationRequest(model, prompt, promptText, config, top, false, stream, includeUsage(body, stream),
                arrival);
    }

    private String model(ObjectNode body) {
        String model = Fields.string(body, "model", true);
        if (!model.equals(modelId)) {
            throw ApiException.modelNotFound(model);
        }
        return model;
    }

    private List<ChatFormat.Message> messages(ObjectNode body) {
        JsonNode list = Fields.get(body, "messages");
        if (list == null) {
            throw ApiException.badField("messages", "Missing required parameter: 'messages'");
        }
        if (!list.isArray() || list.isEmpty()) {
            throw ApiException.badField("messages", "'messages' must be a non-empty array of messages");
        }
        List<ChatFormat.Message> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            String at = "messages[" + i + "]";
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                throw ApiException.badField(at, "'" + at + "' must be an object, got " + Fields.kind(m));
            }
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) {
                throw ApiException.badField(at + ".role", "'" + at + ".role' must be a string");
            }
            if (!ROLES.contains(role.textValue())) {
                throw ApiException.badField(at + ".role", "'" + at + ".role' must be one of " + ROLES.stream().sorted().toList()
                        + ", got '" + role.textValue() + "'");
            }
            out.add(new ChatFormat.Message(role.textValue(), content(m.get("content"), at + ".content")));
        }
        return out;
    }

    /** Message content: a string, or an array of {@code {"type": "text", "text": ...}} parts. */
    private static String content(JsonNode c, String at) {
        if (c == null || c.isNull()) {
            throw ApiException.badField(at, "'" + at + "' is missing");
        }
        if (c.isTextual()) {
            return c.textValue();
        }
        if (!c.isArray()) {
            throw ApiException.badField(at, "'" + at + "' must be a string or an array of text parts, got " + Fields.kind(c));
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < c.size(); i++) {
            JsonNode part = c.get(i);
            JsonNode type = part.get("type");
            JsonNode t = part.get("text");
            if (type == null || !"text".equals(type.asText()) || t == null || !t.isTextual()) {
                throw ApiException.badField(at + "[" + i + "]", "'" + at + "[" + i + "]' must be a text part"
                        + " ({\"type\": \"text\", \"text\": ...}); this model reads text only");
            }
            text.append(t.textValue());
        }
        return text.toString();
    }

    private void checkPrompt(int[] prompt, String field) {
        if (prompt.length == 0) {
            throw ApiException.badField(field, "'" + field + "' is empty: give at least one token to continue from");
        }
        if (prompt.length >= contextSize) {
            throw ApiException.contextLength(field, "This model's maximum context length is " + contextSize
                    + " tokens, but the prompt has " + prompt.length + " tokens, which leaves no room for a completion;"
                    + " shorten the " + field);
        }
    }

    /** The completion budget: the request's, bounded by the context, or {@code fallback} clamped to what remains. */
    private int maxTokens(int promptLength, Integer requested, String field, int fallback) {
        int room = contextSize - promptLength;
        if (requested == null) {
            return Math.min(fallback, room);
        }
        if (requested > room) {
            throw ApiException.contextLength(field, "This model's maximum context length is " + contextSize
                    + " tokens; the prompt has " + promptLength + " tokens and '" + field + "' asks for " + requested
                    + ", " + (promptLength + (long) requested) + " in all: lower '" + field + "' to at most " + room);
        }
        return requested;
    }

    private static GenerationConfig sampling(ObjectNode body, int maxTokens, List<String> formatStops) {
        Double temperature = Fields.number(body, "temperature", 0, 2, false);
        Double topP = Fields.number(body, "top_p", 0, 1, true);
        Long seed = Fields.longValue(body, "seed");
        List<String> stop = new ArrayList<>(Fields.stop(body, MAX_STOP));
        for (String s : formatStops) {
            if (!stop.contains(s)) {
                stop.add(s);
            }
        }
        for (String penalty : List.of("presence_penalty", "frequency_penalty")) {
            Double v = Fields.number(body, penalty, -2, 2, false);
            if (v != null && v != 0) {
                throw ApiException.badField(penalty, "'" + penalty + "' is not supported by this server (only 0)");
            }
        }
        // vLLM's extension: keep going past the end-of-text token (benchmarks want fixed-length answers).
        boolean ignoreEos = Fields.bool(body, "ignore_eos", false);
        return GenerationConfig.builder()
                .maxNewTokens(maxTokens)
                .stopOnSpecial(!ignoreEos)
                .temperature(temperature == null ? 1.0 : temperature)
                .topP(topP == null ? 1.0 : topP)
                .seed(seed == null ? ThreadLocalRandom.current().nextLong() : seed)
                .stopStrings(stop)
                .build();
    }

    private static boolean includeUsage(ObjectNode body, boolean stream) {
        JsonNode options = Fields.get(body, "stream_options");
        if (options == null) {
            return false;
        }
        if (!options.isObject()) {
            throw ApiException.badField("stream_options", "'stream_options' must be an object, got " + Fields.kind(options));
        }
        // Ignored without streaming (clients that share one options object across calls send it anyway).
        return stream && Fields.bool((ObjectNode) options, "include_usage", false);
    }

    private static boolean allInts(JsonNode array) {
        for (JsonNode n : array) {
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                return false;
            }
        }
        return true;
    }
}
