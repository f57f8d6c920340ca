package io.dcformer4j.eval;

/**
 * The teacher-forced score of one text.
 *
 * @param logProb       sum of the natural-log probabilities of tokens 1..T-1, each given the tokens before it
 *                      (token 0 has nothing before it: no BOS is added, spec §4.7)
 * @param scoredTokens  T-1, the number of terms in {@code logProb}
 * @param answerSpans   number of {@code [ bracketed ]} answers (0 when answers were not asked for)
 * @param answersCorrect how many of them the model predicts exactly (argmax at every answer token)
 */
public record TextScore(double logProb, int scoredTokens, int answerSpans, int answersCorrect) {

    /** {@code exp(-logProb / scoredTokens)}. */
    public double perplexity() {
        return Math.exp(-logProb / scoredTokens);
    }

    /** {@code answersCorrect / answerSpans}, or NaN when the text has no answers. */
    public double answerAccuracy() {
        return answerSpans == 0 ? Double.NaN : answersCorrect / (double) answerSpans;
    }
}
