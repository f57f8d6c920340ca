package io.dcformer4j.server;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.generate.CancellationToken;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.Generator;
import io.dcformer4j.generate.LogitsModel;
import io.dcformer4j.generate.TokenListener;
import io.dcformer4j.model.Session;
import io.dcformer4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs generations for the server on one shared {@link DCFormer}: each request gets its own
 * {@link GenerationSession} (its own caches, closed when the request ends, however it ends), under the
 * bounded {@link Admission}. Concurrent sessions on one model are what the engine's batching shares decode
 * steps between, so the server gains from it without doing anything itself.
 */
final class Engine {

    /** Receives each step of a generation: a text piece, its token (-1 for a final flush) and its log-probability. */
    interface StepSink {
        void step(String text, int tokenId, TokenLogprob logprob);
    }

    /**
     * The outcome of one generation.
     *
     * @param result         what the engine returned
     * @param promptLogprobs log-probabilities of the prompt tokens after the first (echo with logprobs), else empty
     */
    record Outcome(GenerationResult result, List<TokenLogprob> promptLogprobs) {
    }

    private final DCFormer model;
    private final Tokenizer tokenizer;
    private final int contextSize;
    private final Admission admission;
    private final ServerMetrics metrics;
    private final Set<CancellationToken> running = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    Engine(DCFormer model, int contextSize, Admission admission, ServerMetrics metrics) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.contextSize = contextSize;
        this.admission = admission;
        this.metrics = metrics;
    }

    Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Most tokens (prompt and completion together) one request may use. */
    int contextSize() {
        return contextSize;
    }

    /**
     * Takes a generation slot (queueing when all are busy). Call before the response is committed, so a
     * full queue can still be answered with 429; pair with {@link #release()}.
     */
    void admit() {
        admission.acquire();
        metrics.admitted(admission.running());
    }

    void release() {
        admission.release();
    }

    /** Cancels every running generation (shutdown after the drain timeout). */
    void cancelAll() {
        stopping = true;
        for (CancellationToken c : running) {
            c.cancel();
        }
    }

    /**
     * Runs one admitted generation to its end, streaming steps to {@code sink} (called on the generating
     * thread), and returns when it is over.
     *
     * <p>The work runs on a platform thread of its own while the request's virtual thread waits: virtual
     * threads are not time-sliced, so a compute-bound generation on one would hold its carrier thread until
     * it ends, and with as many generations as cores nothing else on virtual threads — accepting and
     * parsing requests, refusing them with 429, answering {@code /health} — would run meanwhile.
     */
    Outcome run(GenerationRequest req, StepSink sink, CancellationToken cancel) {
        CompletableFuture<Outcome> done = new CompletableFuture<>();
        Thread.ofPlatform().name("dcformer4j-generation").daemon().start(() -> {
            try {
                done.complete(runHere(req, sink, cancel));
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        try {
            return done.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private Outcome runHere(GenerationRequest req, StepSink sink, CancellationToken cancel) {
        running.add(cancel);
        if (stopping) {
            cancel.cancel(); // admitted from the queue after the drain timeout: end at once
        }
        metrics.promptTokens(req.prompt().length);
        try {
            Timing timing = new Timing(req.arrivalNanos());
            if (!req.logprobs()) {
                try (GenerationSession session = model.newSession()) {
                    TokenListener listener = (piece, token) -> {
                        timing.tick(token);
                        sink.step(piece, token, null);
                    };
                    return finished(new Outcome(session.run(req.prompt(), req.config(), listener, cancel), List.of()));
                }
            }
            // Log-probabilities need the logits of every step, which GenerationSession keeps to itself: run the
            // same generation loop over a model session that records them.
            try (Session session = model.model().newSession(Math.min(contextSize, model.config().blockSize()))) {
                Recording recording = new Recording(session, req.echo());
                int size = Math.min(model.config().vocabSize(), tokenizer.vocabSize());
                TokenListener listener = (piece, token) -> {
                    timing.tick(token);
                    TokenLogprob lp = token >= 0
                            ? TokenLogprob.of(recording.last, size, token, req.topLogprobs(), tokenizer) : null;
                    sink.step(piece, token, lp);
                };
                GenerationResult r = Generator.generate(recording, tokenizer, req.prompt(), req.config(), listener, cancel);
                List<TokenLogprob> promptLps = new ArrayList<>();
                if (req.echo()) {
                    for (int i = 1; i < req.prompt().length; i++) {
                        promptLps.add(TokenLogprob.of(recording.promptRows[i - 1], size, req.prompt()[i],
                                req.topLogprobs(), tokenizer));
                    }
                }
                return finished(new Outcome(r, promptLps));
            }
        } finally {
            running.remove(cancel);
        }
    }

    private Outcome finished(Outcome o) {
        if (o.result().stopReason() == io.dcformer4j.generate.StopReason.CANCELLED) {
            metrics.cancelled();
        }
        return o;
    }

    /** Records first-token and between-token times. */
    private final class Timing {
        private final long arrival;
        private long last = -1;

        Timing(long arrival) {
            this.arrival = arrival;
        }

        void tick(int token) {
            if (token < 0) {
                return;
            }
            long now = System.nanoTime();
            if (last < 0) {
                metrics.firstToken(now - arrival);
            } else {
                metrics.nextToken(now - last);
            }
            last = now;
        }
    }

    /** A model session as a {@link LogitsModel} that keeps the logits the next token is drawn from. */
    private static final class Recording implements LogitsModel {
        private final Session session;
        private final boolean keepPromptRows;
        float[] last;
        float[][] promptRows;

        Recording(Session session, boolean keepPromptRows) {
            this.session = session;
            this.keepPromptRows = keepPromptRows;
        }

        @Override
        public float[] prefill(int[] tokens) {
            if (keepPromptRows) {
                promptRows = session.prefill(tokens); // [T][V]: row i predicts token i + 1
                last = promptRows[promptRows.length - 1];
            } else {
                last = session.prefillLast(tokens);
            }
            return last;
        }

        @Override
        public float[] decode(int token) {
            last = session.decode(token);
            return last;
        }

        @Override
        public int remainingContext() {
            return session.maxContext() - session.position();
        }
    }
}
