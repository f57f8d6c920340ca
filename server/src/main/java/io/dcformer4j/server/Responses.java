package io.dcformer4j.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.StopReason;
import io.dcformer4j.tokenizer.Tokenizer;
import java.util.List;
import java.util.UUID;

/** Builds the OpenAI response and stream-chunk objects of one request (completion or chat flavour). */
final class Responses {
    private final Json json;
    private final boolean chat;
    private final String id;
    private final long created = System.currentTimeMillis() / 1000;
    private final String model;
    private final Tokenizer tokenizer;
    private int textOffset;

    Responses(Json json, boolean chat, String model, Tokenizer tokenizer) {
        this.json = json;
        this.chat = chat;
        this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        this.model = model;
        this.tokenizer = tokenizer;
    }

    String id() {
        return id;
    }

    /** OpenAI's finish_reason: "stop" for a stop token or string, "length" for the budget, the context or a cut. */
    static String finishReason(StopReason reason) {
        return switch (reason) {
            case STOP_TOKEN, STOP_STRING -> "stop";
            case MAX_NEW_TOKENS, CONTEXT_FULL, CANCELLED -> "length";
        };
    }

    /** The whole (non-streamed) response. */
    ObjectNode full(GenerationRequest req, Engine.Outcome outcome, List<TokenLogprob> logprobs) {
        GenerationResult r = outcome.result();
        ObjectNode root = header(chat ? "chat.completion" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", r.text());
            message.putNull("refusal");
            if (req.logprobs()) {
                chatLogprobs(choice.putObject("logprobs"), logprobs);
            } else {
                choice.putNull("logprobs");
            }
        } else {
            choice.put("text", req.echo() ? req.promptText() + r.text() : r.text());
            if (req.logprobs()) {
                ObjectNode lp = choice.putObject("logprobs");
                if (req.echo()) {
                    textOffset = 0;
                    completionLogprobs(lp, promptEntries(req, outcome.promptLogprobs()));
                }
                completionLogprobs(lp, logprobs);
            } else {
                choice.putNull("logprobs");
            }
        }
        choice.put("finish_reason", finishReason(r.stopReason()));
        usage(root.putObject("usage"), r);
        return root;
    }

    /** The first streamed chat chunk: the assistant role with empty content. */
    ObjectNode chatRoleChunk() {
        ObjectNode root = header("chat.completion.chunk");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return root;
    }

    /** A streamed piece of text, with the log-probabilities of its tokens when asked for. */
    ObjectNode textChunk(String text, List<TokenLogprob> logprobs, boolean withLogprobs) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta").put("content", text);
            if (withLogprobs) {
                chatLogprobs(choice.putObject("logprobs"), logprobs);
            } else {
                choice.putNull("logprobs");
            }
        } else {
            choice.put("text", text);
            if (withLogprobs) {
                completionLogprobs(choice.putObject("logprobs"), logprobs);
            } else {
                choice.putNull("logprobs");
            }
        }
        choice.putNull("finish_reason");
        return root;
    }

    /** The last choice chunk: no text, the finish reason. */
    ObjectNode finishChunk(StopReason reason) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finishReason(reason));
        return root;
    }

    /** The usage chunk sent after the last choice chunk when {@code stream_options.include_usage} is set. */
    ObjectNode usageChunk(GenerationResult r) {
        ObjectNode root = header(chat ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        usage(root.putObject("usage"), r);
        return root;
    }

    /** The prompt as echoed log-probability entries: the first token has none. */
    private List<TokenLogprob> promptEntries(GenerationRequest req, List<TokenLogprob> promptLogprobs) {
        java.util.ArrayList<TokenLogprob> out = new java.util.ArrayList<>();
        int first = req.prompt()[0];
        out.add(new TokenLogprob(first, TokenLogprob.text(tokenizer, first), Double.NaN, null));
        out.addAll(promptLogprobs);
        return out;
    }

    private ObjectNode header(String object) {
        ObjectNode root = json.object();
        root.put("id", id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        root.putNull("system_fingerprint");
        return root;
    }

    private static void usage(ObjectNode usage, GenerationResult r) {
        usage.put("prompt_tokens", r.promptTokens());
        usage.put("completion_tokens", r.tokens().length);
        usage.put("total_tokens", r.promptTokens() + r.tokens().length);
    }

    /** Completions' legacy log-probability layout; appends to arrays already present. */
    private void completionLogprobs(ObjectNode lp, List<TokenLogprob> entries) {
        ArrayNode tokens = lp.has("tokens") ? (ArrayNode) lp.get("tokens") : lp.putArray("tokens");
        ArrayNode values = lp.has("token_logprobs") ? (ArrayNode) lp.get("token_logprobs") : lp.putArray("token_logprobs");
        ArrayNode tops = lp.has("top_logprobs") ? (ArrayNode) lp.get("top_logprobs") : lp.putArray("top_logprobs");
        ArrayNode offsets = lp.has("text_offset") ? (ArrayNode) lp.get("text_offset") : lp.putArray("text_offset");
        for (TokenLogprob e : entries) {
            tokens.add(e.text());
            offsets.add(textOffset);
            textOffset += e.text().length();
            if (e.top() == null) {
                values.addNull();
                tops.addNull();
                continue;
            }
            values.add(e.logprob());
            ObjectNode top = tops.addObject();
            for (TokenLogprob alt : e.top()) {
                if (!top.has(alt.text())) {
                    top.put(alt.text(), alt.logprob());
                }
            }
        }
    }

    /** Chat's log-probability layout. */
    private void chatLogprobs(ObjectNode lp, List<TokenLogprob> entries) {
        ArrayNode content = lp.putArray("content");
        for (TokenLogprob e : entries) {
            ObjectNode item = content.addObject();
            tokenFields(item, e);
            ArrayNode top = item.putArray("top_logprobs");
            for (TokenLogprob alt : e.top()) {
                tokenFields(top.addObject(), alt);
            }
        }
        lp.putNull("refusal");
    }

    private void tokenFields(ObjectNode item, TokenLogprob e) {
        item.put("token", e.text());
        item.put("logprob", e.logprob());
        ArrayNode bytes = item.putArray("bytes");
        for (byte b : tokenizer.tokenBytes(e.token())) {
            bytes.add(b & 0xff);
        }
    }
}
