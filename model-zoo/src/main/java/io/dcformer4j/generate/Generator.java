package io.dcformer4j.generate;

import io.dcformer4j.tokenizer.StreamingDecoder;
import io.dcformer4j.tokenizer.Tokenizer;
import java.util.Arrays;

/**
 * The generation loop (spec §4.7, with sampling): prefill the prompt, then pick a token from the last
 * logits, stream its text, and decode it, until a stop condition. The last picked token is not fed back to
 * the model (nothing needs its logits); {@link #generate} reports how many were.
 */
public final class Generator {
    private Generator() {
    }

    /**
     * Generates a continuation of {@code prompt}.
     *
     * @throws IllegalArgumentException when the prompt is empty or longer than the remaining context
     */
    public static GenerationResult generate(LogitsModel model, Tokenizer tokenizer, int[] prompt,
                                            GenerationConfig config, TokenListener listener,
                                            CancellationToken cancellation) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give at least one token to continue from");
        }
        if (prompt.length > model.remainingContext()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens but the context has room for "
                    + model.remainingContext());
        }
        TokenListener out = listener == null ? TokenListener.NONE : listener;
        CancellationToken cancel = cancellation == null ? new CancellationToken() : cancellation;
        Sampler sampler = new Sampler(config);
        sampler.observe(prompt);
        StreamingDecoder decoder = tokenizer.newStreamingDecoder();
        StopStringFilter filter = new StopStringFilter(config.stopStrings());
        StringBuilder text = new StringBuilder();
        // grown as tokens come: maxNewTokens is a user's bound, not a size (it may be Integer.MAX_VALUE)
        int[] generated = new int[Math.min(config.maxNewTokens(), 64)];
        int count = 0;
        if (cancel.isCancelled()) {
            return new GenerationResult("", new int[0], prompt.length, StopReason.CANCELLED);
        }
        float[] logits = model.prefill(prompt);
        StopReason reason;
        while (true) {
            if (cancel.isCancelled()) {
                reason = StopReason.CANCELLED;
                break;
            }
            int token = sampler.next(logits, Math.min(logits.length, tokenizer.vocabSize()));
            if (count == generated.length) {
                generated = Arrays.copyOf(generated, (int) Math.min(config.maxNewTokens(), 2L * count));
            }
            generated[count++] = token;
            if (config.stopTokens().contains(token) || config.stopOnSpecial() && tokenizer.isSpecial(token)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            String piece = filter.push(decoder.push(token));
            text.append(piece);
            out.onToken(piece, token);
            if (filter.stopped()) {
                reason = StopReason.STOP_STRING;
                break;
            }
            if (count == config.maxNewTokens()) {
                reason = StopReason.MAX_NEW_TOKENS;
                break;
            }
            if (model.remainingContext() == 0) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            logits = model.decode(token);
        }
        if (reason != StopReason.STOP_STRING) {
            String tail = filter.push(decoder.flush()) + filter.finish();
            if (!tail.isEmpty()) {
                text.append(tail);
                out.onToken(tail, -1);
            }
        }
        return new GenerationResult(text.toString(), Arrays.copyOf(generated, count), prompt.length, reason);
    }
}
