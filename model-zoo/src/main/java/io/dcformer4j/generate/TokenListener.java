package io.dcformer4j.generate;

/**
 * Receives generated text as it is produced. Pieces are whole characters (never half a UTF-8 sequence) and
 * never contain the beginning of a stop string that may still complete; concatenated they equal the returned
 * text. Called on the generating thread.
 */
@FunctionalInterface
public interface TokenListener {
    /** Ignores everything. */
    TokenListener NONE = (text, tokenId) -> { };

    /**
     * One step of output.
     *
     * @param text    the text released by this step (possibly empty while a character or a possible stop
     *                string is incomplete)
     * @param tokenId the token generated at this step, or -1 for text released at the end
     */
    void onToken(String text, int tokenId);
}
