package io.dcformer4j.server;

import io.dcformer4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * The log-probability of one token under the model's raw distribution (log-softmax of the logits, before
 * temperature, top-p or penalties), with the most likely alternatives at that position.
 *
 * @param token   the token id
 * @param text    its text
 * @param logprob its log-probability
 * @param top     the {@code k} most likely tokens at that position, most likely first
 */
record TokenLogprob(int token, String text, double logprob, List<TokenLogprob> top) {

    /** Scores {@code token} among the first {@code size} logits and lists the {@code k} best. */
    static TokenLogprob of(float[] logits, int size, int token, int k, Tokenizer tokenizer) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < size; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < size; i++) {
            sum += Math.exp(logits[i] - max);
        }
        double logZ = max + Math.log(sum);
        List<TokenLogprob> top = new ArrayList<>(k);
        if (k > 0) {
            // k is small (at most 20): k passes over the vocabulary beat sorting it.
            boolean[] taken = new boolean[size];
            for (int j = 0; j < Math.min(k, size); j++) {
                int best = -1;
                for (int i = 0; i < size; i++) {
                    if (!taken[i] && (best < 0 || logits[i] > logits[best])) {
                        best = i;
                    }
                }
                taken[best] = true;
                top.add(new TokenLogprob(best, text(tokenizer, best), logits[best] - logZ, List.of()));
            }
        }
        return new TokenLogprob(token, text(tokenizer, token), logits[token] - logZ, List.copyOf(top));
    }

    static String text(Tokenizer tokenizer, int token) {
        return tokenizer.decode(new int[] {token});
    }
}
