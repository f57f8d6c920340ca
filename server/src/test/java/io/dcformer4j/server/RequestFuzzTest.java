package io.dcformer4j.server;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.DCFormer;
import io.dcformer4j.tokenizer.Tokenizer;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzz target for the server's request reading: a request body (bytes) through {@link Json}
 * and {@link RequestParser} as {@code POST /v1/completions} and as {@code POST /v1/chat/completions}, the latter
 * once with the plain transcript and once with a ChatML-style chat template (jinjava), on the demo model's
 * tokenizer with a 64-token context.
 *
 * <p>Invariant, for every input and each of the three: either a request the engine can run (a non-empty
 * prompt of ids inside the vocabulary, shorter than the context, and a token budget of at least one that fits
 * the context with it) or an {@link ApiException} with status 400, 404 (an unknown model) or 413 and a message.
 * Any other exception (a 500 included), an input needing more than the fuzzing heap (1 GB: the allocation
 * bound; bodies are at most {@link #MAX_BODY} bytes) or more than the per-input timeout (10 s) is a finding.
 */
class RequestFuzzTest {
    /** The body limit of this target (the server's default is 1 MiB; Jazzer's inputs stay far below). */
    static final int MAX_BODY = 64 * 1024;
    static final int CONTEXT = 64;
    static final String MODEL = "demo";
    private static final Set<Integer> DOCUMENTED = Set.of(400, 404, 413);
    private static final String CHATML = "{%- for message in messages %}"
            + "{%- if loop.first and message['role'] != 'system' %}{{- '<|im_start|>system\\nBe brief.' + eos_token + '\\n' }}{%- endif %}"
            + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] | trim + eos_token + '\\n' }}"
            + "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    static Json json;
    static RequestParser transcript;
    static RequestParser template;
    static int vocab;

    @BeforeAll
    static void load() throws IOException {
        Tokenizer tokenizer = Tokenizer.load(DCFormer.demoDirectory("dcformer").resolve("tokenizer.json"));
        vocab = tokenizer.vocabSize();
        json = new Json(MAX_BODY);
        transcript = new RequestParser(MODEL, tokenizer, CONTEXT, vocab, new TranscriptChatFormat());
        // A short render limit, well under the per-input timeout, so that a slow rendering shows as its 400.
        template = new RequestParser(MODEL, tokenizer, CONTEXT, vocab, new JinjaChatFormat(
                new ChatTemplateSource(CHATML, "fuzz/tokenizer_config.json", Map.of("eos_token", "<|endoftext|>")),
                Duration.ofSeconds(2)));
    }

    @FuzzTest
    void requestBody(byte[] body) {
        ObjectNode node;
        try {
            if (body.length > MAX_BODY) {
                throw ApiException.tooLarge(MAX_BODY); // what the handler answers before parsing
            }
            node = json.readObject(body);
        } catch (ApiException e) {
            documented(e, "reading the body");
            return;
        }
        check("completion", () -> transcript.completion(node, 0L));
        check("chat (transcript)", () -> transcript.chat(node, 0L));
        check("chat (template)", () -> template.chat(node, 0L));
    }

    private static void check(String what, java.util.function.Supplier<GenerationRequest> parse) {
        GenerationRequest r;
        try {
            r = parse.get();
        } catch (ApiException e) {
            documented(e, what);
            return;
        }
        int[] prompt = r.prompt();
        if (prompt.length == 0 || prompt.length >= CONTEXT) {
            throw new AssertionError(what + ": accepted a prompt of " + prompt.length + " tokens (context " + CONTEXT + ")");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new AssertionError(what + ": accepted token id " + id + " outside the vocabulary of " + vocab);
            }
        }
        int max = r.config().maxNewTokens();
        if (max < 1 || prompt.length + (long) max > CONTEXT) {
            throw new AssertionError(what + ": accepted a budget of " + max + " tokens after a prompt of " + prompt.length);
        }
        if (!MODEL.equals(r.model()) || r.topLogprobs() > RequestParser.MAX_TOP_LOGPROBS || r.promptText() == null) {
            throw new AssertionError(what + ": accepted " + r);
        }
    }

    private static void documented(ApiException e, String what) {
        if (!DOCUMENTED.contains(e.status()) || e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError(what + ": undocumented refusal " + e.status() + " " + e.type() + ": " + e.getMessage(), e);
        }
    }
}
