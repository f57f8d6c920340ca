package io.dcformer4j;

import io.dcformer4j.generate.CancellationToken;
import io.dcformer4j.generate.StopReason;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.Generator;
import io.dcformer4j.generate.LogitsModel;
import io.dcformer4j.generate.TokenListener;
import io.dcformer4j.model.Session;
import java.util.Arrays;

/**
 * One growing text on a {@link DCFormer} model (no chat template): each {@code generate} call appends its
 * prompt to what came before — earlier prompts and generated text — and continues from there, reusing the
 * caches. {@link #reset()} starts a new text; so does a call that fails with an exception. A session is
 * used by one thread at a time (calls are serialised); many sessions can run on one model concurrently, and
 * unless the model's {@link EngineOptions} turn batching off their decode steps are batched (see
 * {@link EngineOptions}): the forward passes then run on the model's scheduler thread while sampling, stop
 * rules, streaming and cancellation stay on the calling thread.
 * {@link #cancel()} may be called from any thread.
 */
public final class GenerationSession implements AutoCloseable {
    private final DCFormer owner;
    private final Session session;
    // Generated tokens not yet fed to the model (the last pick of the previous call), fed before the next prompt.
    private int[] pending = new int[0];
    private volatile CancellationToken current;
    private volatile boolean closed;

    GenerationSession(DCFormer owner, Session session) {
        this.owner = owner;
        this.session = session;
    }

    /** Generates a continuation of {@code prompt}, streaming text pieces to {@code listener}; returns the text. */
    public String generate(String prompt, GenerationConfig config, TokenListener listener) {
        return run(prompt, config, listener, null).text();
    }

    /** Generates a continuation of {@code prompt} without streaming; returns the text. */
    public String generate(String prompt, GenerationConfig config) {
        return run(prompt, config, TokenListener.NONE, null).text();
    }

    /**
     * Generates a continuation of {@code prompt}, with the full result (tokens, stop reason).
     *
     * @param cancellation a token another thread may cancel, or {@code null} (then {@link #cancel()} still works)
     */
    public GenerationResult run(String prompt, GenerationConfig config, TokenListener listener,
                                CancellationToken cancellation) {
        checkOpen();
        return run(owner.tokenizer().encode(prompt), config, listener, cancellation);
    }

    /** As {@link #run(String, GenerationConfig, TokenListener, CancellationToken)} from token ids. */
    public synchronized GenerationResult run(int[] promptTokens, GenerationConfig config, TokenListener listener,
                                             CancellationToken cancellation) {
        checkOpen();
        int vocab = owner.config().vocabSize();
        for (int i = 0; i < promptTokens.length; i++) {
            if (promptTokens[i] < 0 || promptTokens[i] >= vocab) {
                throw new IllegalArgumentException("prompt token " + i + " has id " + promptTokens[i]
                        + ", outside the model's vocabulary [0, " + vocab + ")"
                        + (promptTokens[i] >= vocab ? ": the tokenizer knows more ids than the model's embedding table"
                        + " (for example GPT-NeoX whitespace-run tokens, spec §9)" : ""));
            }
        }
        CancellationToken cancel = cancellation != null ? cancellation : new CancellationToken();
        current = cancel;
        int[] prompt = new int[pending.length + promptTokens.length];
        System.arraycopy(pending, 0, prompt, 0, pending.length);
        System.arraycopy(promptTokens, 0, prompt, pending.length, promptTokens.length);
        // admission: reserve the cache this generation may grow to, waiting (bounded, cancellable) for it
        long end = Math.min((long) session.position() + prompt.length + config.maxNewTokens(), session.maxContext());
        boolean admitted;
        try {
            admitted = session.admit((int) end, owner.options().admissionTimeout(), cancel::isCancelled);
        } catch (RuntimeException | Error e) {
            current = null;
            throw e;
        }
        if (!admitted) {
            current = null;
            return new GenerationResult("", new int[0], prompt.length, StopReason.CANCELLED);
        }
        BatchScheduler scheduler = owner.scheduler();
        Adapter adapter = new Adapter(scheduler);
        if (scheduler != null) {
            scheduler.join();
        }
        try {
            GenerationResult r = Generator.generate(adapter, owner.tokenizer(), prompt, config, listener, cancel);
            pending = Arrays.copyOfRange(r.tokens(), adapter.decoded, r.tokens().length);
            return r;
        } catch (RuntimeException | Error e) {
            // The caches may hold part of this call: start the next one from an empty text.
            session.reset();
            pending = new int[0];
            throw e;
        } finally {
            current = null;
            if (scheduler != null) {
                scheduler.leave();
            }
            session.trimReservation();
        }
    }

    /** Stops the generation running in this session, if any (from any thread). */
    public void cancel() {
        CancellationToken c = current;
        if (c != null) {
            c.cancel();
        }
    }

    /** Forgets the text so far. */
    public synchronized void reset() {
        checkOpen();
        session.reset();
        pending = new int[0];
    }

    /** Number of tokens the model has processed in this session. */
    public int position() {
        return session.position();
    }

    /** Releases the caches. Closing twice is a no-op. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        session.close();
        owner.forget(this);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this generation session is closed");
        }
        owner.checkOpen();
    }

    /**
     * The model session seen as a {@link LogitsModel}, counting decode calls. With a scheduler the forward
     * passes run there (batched with other sessions' steps); a token is checked here first, so that a bad one
     * fails this generation only.
     */
    private final class Adapter implements LogitsModel {
        private final BatchScheduler scheduler;
        int decoded;

        Adapter(BatchScheduler scheduler) {
            this.scheduler = scheduler;
        }

        @Override
        public float[] prefill(int[] tokens) {
            return scheduler == null ? session.prefillLast(tokens) : scheduler.prefill(session, tokens);
        }

        @Override
        public float[] decode(int token) {
            decoded++;
            if (scheduler == null) {
                return session.decode(token);
            }
            session.checkDecode(token);
            return scheduler.decode(session, token);
        }

        @Override
        public int remainingContext() {
            return session.maxContext() - session.position();
        }
    }
}
