package io.dcformer4j.generate;

/**
 * The outcome of one generation.
 *
 * @param text       the generated text (stop token and stop string excluded)
 * @param tokens     the generated token ids, including a final stop token when there was one
 * @param promptTokens number of prompt tokens fed to the model
 * @param stopReason why it ended
 */
public record GenerationResult(String text, int[] tokens, int promptTokens, StopReason stopReason) {
}
