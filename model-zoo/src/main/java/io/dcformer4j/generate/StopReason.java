package io.dcformer4j.generate;

/** Why a generation ended. */
public enum StopReason {
    /** {@link GenerationConfig#maxNewTokens()} tokens were generated. */
    MAX_NEW_TOKENS,
    /** A stop token (or a special token) was generated. */
    STOP_TOKEN,
    /** A stop string appeared in the output. */
    STOP_STRING,
    /** The model's context is full. */
    CONTEXT_FULL,
    /** A {@link CancellationToken} was cancelled. */
    CANCELLED
}
