package io.dcformer4j.generate;

/**
 * The view of a language model that generation needs: one sequence whose context grows by prefill and
 * decode calls. A model session adapts to it; tests use small fakes.
 */
public interface LogitsModel {

    /** Appends tokens to the context and returns the logits [V] of the last one. */
    float[] prefill(int[] tokens);

    /** Appends one token and returns its logits [V]. */
    float[] decode(int token);

    /** How many more tokens the context can take. */
    int remainingContext();
}
