package io.dcformer4j.model.checkpoint;

/**
 * A checkpoint file that cannot be read: malformed, inconsistent, truncated, hostile, or using a feature this
 * reader does not support. The message names the file, the tensor (when there is one) and the offending value.
 */
public class CheckpointException extends RuntimeException {

    /** An error with a complete message. */
    public CheckpointException(String message) {
        super(message);
    }

    /** An error caused by a lower-level failure (I/O, JSON parsing). */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
