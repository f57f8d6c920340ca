package io.dcformer4j.model;

/**
 * A step or session was refused because the KV caches it needs do not fit in the model's
 * {@link CacheBudget}; the message and the accessors name the sizes.
 */
public final class CacheBudgetExceededException extends IllegalStateException {
    private final long needed;
    private final long budget;
    private final long inUse;

    CacheBudgetExceededException(String message, long needed, long budget, long inUse) {
        super(message);
        this.needed = needed;
        this.budget = budget;
        this.inUse = inUse;
    }

    /** Bytes the refused step needed. */
    public long needed() {
        return needed;
    }

    /** The budget's limit in bytes. */
    public long budget() {
        return budget;
    }

    /** Bytes in use when it was refused. */
    public long inUse() {
        return inUse;
    }
}
