package io.dcformer4j.api;

/**
 * A backend plugin, found with {@link java.util.ServiceLoader}. Implementations must be cheap to construct
 * and must not load native code until {@link #open} (so a provider on the class path never breaks a machine
 * where it cannot run).
 */
public interface BackendProvider {

    /** The unique name users select it by, lower case (for example {@code "cpu"}, {@code "cuda"}). */
    String name();

    /** Preference among available providers when none is named; higher wins. */
    int priority();

    /** Whether the backend can be opened here; never throws. */
    Availability availability();

    /**
     * Opens a backend.
     *
     * @throws BackendUnavailableException when it cannot be opened here, with the reason
     */
    Backend open(BackendOptions options);
}
