package io.dcformer4j.eval;

import io.dcformer4j.DCFormer;
import io.dcformer4j.model.Session;
import java.util.List;

/**
 * Scores texts with one teacher-forced forward pass each: the log-probability of every token given the ones
 * before it, and optionally the {@link BracketedAnswers} accuracy. Thread-safe: each call opens its own
 * {@link Session} of exactly the text's length, so many threads can score on one model at once.
 */
public final class TextScorer {
    private final DCFormer model;
    private final int maxTokens;

    /**
     * @param model     the model (and its tokenizer)
     * @param maxTokens the longest text to accept in tokens, at most the model's {@code block_size}
     */
    public TextScorer(DCFormer model, int maxTokens) {
        int block = model.config().blockSize();
        if (maxTokens < 2 || maxTokens > block) {
            throw new IllegalArgumentException("maxTokens must be in [2, " + block + "] (the model's block_size), got "
                    + maxTokens);
        }
        this.model = model;
        this.maxTokens = maxTokens;
    }

    /** A scorer that accepts texts up to the model's {@code block_size}. */
    public TextScorer(DCFormer model) {
        this(model, model.config().blockSize());
    }

    /**
     * Scores one text.
     *
     * @param text    the text; with {@code answers}, its {@code [ ]} markers are removed before tokenizing
     * @param answers whether to score the bracketed answer spans too
     * @throws IllegalArgumentException when the text has fewer than 2 tokens or more than the limit, or has ids
     *                                  outside the model's vocabulary
     */
    public TextScore score(String text, boolean answers) {
        BracketedAnswers.Sample sample = answers ? BracketedAnswers.parse(text) : null;
        int[] ids = model.tokenizer().encode(answers ? sample.text() : text);
        if (ids.length < 2) {
            throw new IllegalArgumentException("the text has " + ids.length + " token" + (ids.length == 1 ? "" : "s")
                    + ": at least 2 are needed to score one");
        }
        if (ids.length > maxTokens) {
            throw new IllegalArgumentException("the text has " + ids.length + " tokens, more than the " + maxTokens
                    + " the scorer accepts");
        }
        int vocab = model.config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= vocab) {
                throw new IllegalArgumentException("token " + i + " has id " + ids[i] + ", outside the model's vocabulary [0, "
                        + vocab + ")");
            }
        }
        float[][] logits; // [T][vocab]
        try (Session s = model.model().newSession(ids.length)) {
            logits = s.prefill(ids);
        }
        double sum = 0;
        for (int p = 1; p < ids.length; p++) {
            sum += logProb(logits[p - 1], ids[p]);
        }
        int spans = 0;
        int correct = 0;
        if (answers) {
            List<int[]> ranges = BracketedAnswers.answerTokens(model.tokenizer(), sample, ids);
            for (int[] r : ranges) {
                spans++;
                if (BracketedAnswers.correct(ids, logits, r[0], r[1])) {
                    correct++;
                }
            }
        }
        return new TextScore(sum, ids.length - 1, spans, correct);
    }

    /** {@code log softmax(logits)[token]} in double precision. */
    static double logProb(float[] logits, int token) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        return logits[token] - max - Math.log(sum);
    }
}
