package io.dcformer4j.api;

import java.util.List;
import java.util.Objects;

/**
 * What {@link BackendSelector#select} did: the backend it opened, the rule that chose it, and every provider
 * that automatic selection tried first and could not open (empty when the first choice opened, and always
 * empty for a backend named explicitly, which never falls back).
 *
 * @param backend   the open backend; the caller owns it and closes it
 * @param source    the rule that chose it, for example {@code "highest-priority available provider"}
 * @param fallbacks providers that failed to open before {@code backend}, in the order they were tried
 */
public record BackendSelection(Backend backend, String source, List<FailedOpen> fallbacks) {

    /** A provider that reported itself available but could not be opened, and why (one line). */
    public record FailedOpen(String provider, String reason) {
        /** The warning printed when selection moved on: {@code cuda: cannot open device 0: ...; using cpu}. */
        public String warning(String usedInstead) {
            return provider + ": " + reason + "; using " + usedInstead;
        }
    }

    /** Checks the parts and copies the list. */
    public BackendSelection {
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(source, "source");
        fallbacks = List.copyOf(fallbacks);
    }

    /** Whether automatic selection had to move past a provider that failed to open. */
    public boolean fellBack() {
        return !fallbacks.isEmpty();
    }

    /** The warning lines, one per provider that failed to open, as they were reported. */
    public List<String> warnings() {
        return fallbacks.stream().map(f -> f.warning(backend.name())).toList();
    }

    /** One line: the backend's name and how it was chosen, with every failed open before it. */
    public String summary() {
        StringBuilder sb = new StringBuilder(backend.name()).append(" (").append(source);
        for (FailedOpen f : fallbacks) {
            sb.append("; ").append(f.provider()).append(" failed to open: ").append(f.reason());
        }
        return sb.append(')').toString();
    }
}
