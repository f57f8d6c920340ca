package io.dcformer4j.model;

/**
 * The model produced NaN or infinite logits. The message names the position and, from a layer-by-layer
 * replay of the sequence made only after the failure, the first layer whose output was not finite (or says
 * that every layer's was, which points at the final norm or the output head). The usual cause is a checkpoint
 * whose weights hold NaN or infinity; {@code dcformer4j inspect --check} names the first such weight. The
 * session that threw must be {@link Session#reset() reset} before further use.
 */
public final class NonFiniteOutputException extends IllegalStateException {

    private final int position;
    private final int layer;

    NonFiniteOutputException(String message, int position, int layer) {
        super(message);
        this.position = position;
        this.layer = layer;
    }

    /** The position whose logits were not finite. */
    public int position() {
        return position;
    }

    /** The first layer whose output held NaN or infinity in the replay, or -1 when every layer's output was finite. */
    public int layer() {
        return layer;
    }
}
