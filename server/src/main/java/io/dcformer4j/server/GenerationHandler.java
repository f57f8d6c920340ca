package io.dcformer4j.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.generate.CancellationToken;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code POST /v1/completions} and {@code POST /v1/chat/completions}: validate, take a slot (or 429), then
 * answer in one JSON body or as server-sent events ending with {@code data: [DONE]}. Everything that can
 * fail with a status (400, 404, 413, 429, 503) fails before the response is committed.
 */
final class GenerationHandler {
    private final Json json;
    private final Engine engine;
    private final RequestParser parser;
    private final long maxBodyBytes;

    GenerationHandler(Json json, Engine engine, RequestParser parser, long maxBodyBytes) {
        this.json = json;
        this.engine = engine;
        this.parser = parser;
        this.maxBodyBytes = maxBodyBytes;
    }

    void handle(Context ctx, boolean chat) {
        long arrival = System.nanoTime();
        ObjectNode body = json.readObject(readBody(ctx));
        GenerationRequest req = chat ? parser.chat(body, arrival) : parser.completion(body, arrival);
        Responses responses = new Responses(json, chat, req.model(), engine.tokenizer());
        engine.admit();
        try {
            if (req.stream()) {
                stream(ctx, req, responses, chat);
            } else {
                whole(ctx, req, responses);
            }
        } finally {
            engine.release();
        }
    }

    private void whole(Context ctx, GenerationRequest req, Responses responses) {
        List<TokenLogprob> logprobs = new ArrayList<>();
        Engine.Outcome outcome = engine.run(req, (text, token, lp) -> {
            if (lp != null) {
                logprobs.add(lp);
            }
        }, new CancellationToken());
        // Written and completed here rather than left to the framework, so the response is out before the
        // request counts as finished (a draining shutdown waits for exactly that).
        byte[] body = json.write(responses.full(req, outcome, logprobs)).getBytes(StandardCharsets.UTF_8);
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("application/json");
        res.setContentLength(body.length);
        try (OutputStream out = res.getOutputStream()) {
            out.write(body);
        } catch (IOException e) {
            // the client went away; nothing to tell it
        }
    }

    private void stream(Context ctx, GenerationRequest req, Responses responses, boolean chat) {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream;charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        CancellationToken cancel = new CancellationToken();
        SseWriter sse;
        try {
            sse = new SseWriter(res.getOutputStream(), cancel);
        } catch (IOException e) {
            return; // the client is already gone
        }
        if (chat) {
            sse.send(json.write(responses.chatRoleChunk()));
        }
        // Text pieces can be empty (half a character, or a possible stop string held back): their tokens'
        // log-probabilities ride along with the next non-empty piece.
        List<TokenLogprob> pending = new ArrayList<>();
        Engine.Outcome outcome;
        try {
            outcome = engine.run(req, (text, token, lp) -> {
                if (lp != null) {
                    pending.add(lp);
                }
                if (!text.isEmpty()) {
                    sse.send(json.write(responses.textChunk(text, pending, req.logprobs())));
                    pending.clear();
                }
            }, cancel);
        } catch (RuntimeException e) {
            // Headers are out: report the failure in the stream, as OpenAI does.
            ObjectNode error = json.object();
            ObjectNode inner = error.putObject("error");
            inner.put("message", "generation failed: " + e.getMessage());
            inner.put("type", "server_error");
            inner.putNull("param");
            inner.putNull("code");
            sse.send(json.write(error));
            sse.done();
            sse.close();
            return;
        }
        if (sse.broken()) {
            return;
        }
        if (!pending.isEmpty()) {
            sse.send(json.write(responses.textChunk("", pending, true)));
        }
        sse.send(json.write(responses.finishChunk(outcome.result().stopReason())));
        if (req.includeUsage()) {
            sse.send(json.write(responses.usageChunk(outcome.result())));
        }
        sse.done();
        sse.close();
    }

    /** The body, read with a hard size limit (Content-Length is checked first, chunked bodies as they come). */
    private byte[] readBody(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBodyBytes) {
            throw ApiException.tooLarge(maxBodyBytes);
        }
        try {
            byte[] body = ctx.req().getInputStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBodyBytes + 1));
            if (body.length > maxBodyBytes) {
                throw ApiException.tooLarge(maxBodyBytes);
            }
            return body;
        } catch (IOException e) {
            throw ApiException.badRequest("The request body could not be read: " + e.getMessage());
        }
    }
}
