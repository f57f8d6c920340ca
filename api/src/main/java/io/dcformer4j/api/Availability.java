package io.dcformer4j.api;

/**
 * Whether a provider can open a backend on this machine, and if not, why.
 *
 * @param available whether {@link BackendProvider#open} can succeed
 * @param reason    a human-readable explanation ("no CUDA driver found"), or a short description when available
 */
public record Availability(boolean available, String reason) {
    /** Validates the fields. */
    public Availability {
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("an availability needs a reason or description");
        }
    }

    /** Available, with a description of what will be used. */
    public static Availability available(String description) {
        return new Availability(true, description);
    }

    /** Unavailable for the given reason. */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }
}
