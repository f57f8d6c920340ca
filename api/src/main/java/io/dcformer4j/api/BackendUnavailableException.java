package io.dcformer4j.api;

/** Thrown when a requested backend is missing or cannot be opened; the message lists every provider found. */
public class BackendUnavailableException extends RuntimeException {
    /** With a message. */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /** With a message and cause. */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
