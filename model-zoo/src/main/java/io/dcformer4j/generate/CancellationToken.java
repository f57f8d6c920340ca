package io.dcformer4j.generate;

/**
 * Asks a running generation to stop, from any thread. The generation checks it before every step and ends
 * with {@link StopReason#CANCELLED}, returning what it produced so far.
 */
public final class CancellationToken {
    private volatile boolean cancelled;

    /** Requests cancellation; idempotent. */
    public void cancel() {
        cancelled = true;
    }

    /** Whether cancellation was requested. */
    public boolean isCancelled() {
        return cancelled;
    }
}
