package io.dcformer4j.server;

import io.dcformer4j.generate.GenerationConfig;

/**
 * One validated generation, the common form of a completion and a chat completion request.
 *
 * @param model        the model name the client asked for
 * @param prompt       prompt token ids (non-empty, shorter than the context)
 * @param promptText   the prompt as text (echoed when {@code echo})
 * @param config       length, sampling and stopping, exactly as the embedding API takes them
 * @param topLogprobs  -1 for no log-probabilities, else how many alternatives per token (0: the chosen token only)
 * @param echo         whether the prompt is returned before the completion (completions only)
 * @param stream       whether to answer with server-sent events
 * @param includeUsage whether a streamed answer ends with a usage chunk ({@code stream_options.include_usage})
 * @param arrivalNanos {@link System#nanoTime()} when the request arrived (time to first token counts from it)
 */
record GenerationRequest(String model, int[] prompt, String promptText, GenerationConfig config, int topLogprobs,
                         boolean echo, boolean stream, boolean includeUsage, long arrivalNanos) {

    boolean logprobs() {
        return topLogprobs >= 0;
    }
}
