package io.dcformer4j.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Chooses a backend among a fixed set of providers. The rules, in order: an explicit name; the system
 * property {@value #PROPERTY}; the environment variable {@value #ENVIRONMENT}; else the available provider
 * with the highest priority. A named backend that is missing or unavailable is an error that lists every
 * provider and its status: there is never a silent fall-back to another backend.
 *
 * <p>{@link Backends} is the usual entry point; this class exists so the rules can be applied to any
 * provider list and any property/environment source (tests, embedding containers).
 */
public final class BackendSelector {
    /** System property naming the backend. */
    public static final String PROPERTY = "dcformer4j.backend";
    /** Environment variable naming the backend. */
    public static final String ENVIRONMENT = "DCFORMER4J_BACKEND";

    private final List<BackendProvider> providers;
    private final UnaryOperator<String> systemProperties;
    private final UnaryOperator<String> environment;

    /**
     * @param providers        the providers to choose among
     * @param systemProperties lookup of system properties (for example {@code System::getProperty})
     * @param environment      lookup of environment variables (for example {@code System::getenv})
     */
    public BackendSelector(List<BackendProvider> providers, UnaryOperator<String> systemProperties,
                           UnaryOperator<String> environment) {
        this.providers = List.copyOf(providers);
        this.systemProperties = Objects.requireNonNull(systemProperties);
        this.environment = Objects.requireNonNull(environment);
    }

    /** The providers, highest priority first. */
    public List<BackendProvider> providers() {
        List<BackendProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(BackendProvider::priority).reversed().thenComparing(BackendProvider::name));
        return sorted;
    }

    /** Where the choice comes from and what it is; see {@link #choose(String)}. */
    public record Choice(BackendProvider provider, String source) {
    }

    /**
     * Picks the provider the rules select.
     *
     * @param explicitName a name given by the caller, or {@code null}
     * @throws BackendUnavailableException when the named provider is missing or unavailable, or nothing is available
     */
    public Choice choose(String explicitName) {
        String name = blankToNull(explicitName);
        String source = "requested by name";
        if (name == null) {
            name = blankToNull(systemProperties.apply(PROPERTY));
            source = "system property " + PROPERTY;
        }
        if (name == null) {
            name = blankToNull(environment.apply(ENVIRONMENT));
            source = "environment variable " + ENVIRONMENT;
        }
        if (name != null) {
            String wanted = name.trim().toLowerCase(Locale.ROOT);
            Optional<BackendProvider> match = providers.stream().filter(p -> p.name().equals(wanted)).findFirst();
            if (match.isEmpty()) {
                throw new BackendUnavailableException("no backend named '" + name + "' (" + source + "). " + describe());
            }
            Availability a = safeAvailability(match.get());
            if (!a.available()) {
                throw new BackendUnavailableException("backend '" + wanted + "' (" + source + ") is unavailable: "
                        + a.reason() + ". " + describe());
            }
            return new Choice(match.get(), source);
        }
        for (BackendProvider p : providers()) {
            if (safeAvailability(p).available()) {
                return new Choice(p, "highest-priority available provider");
            }
        }
        throw new BackendUnavailableException("no backend is available. " + describe());
    }

    /** Opens the backend the rules select. */
    public Backend open(String explicitName, BackendOptions options) {
        Choice c = choose(explicitName);
        try {
            return c.provider().open(options);
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException("backend '" + c.provider().name() + "' failed to open: "
                    + e.getMessage() + ". " + describe(), e);
        }
    }

    /** One line per provider found: name, priority, and available or the reason it is not. */
    public String describe() {
        if (providers.isEmpty()) {
            return "Providers found: none (is a backend jar on the class path or module path?)";
        }
        StringBuilder sb = new StringBuilder("Providers found:");
        for (BackendProvider p : providers()) {
            Availability a = safeAvailability(p);
            sb.append("\n  ").append(p.name()).append(" (priority ").append(p.priority()).append("): ")
                    .append(a.available() ? "available — " : "unavailable — ").append(a.reason());
        }
        return sb.toString();
    }

    /** A provider's availability; a provider that throws is reported unavailable with the exception. */
    public static Availability safeAvailability(BackendProvider p) {
        try {
            Availability a = p.availability();
            return a != null ? a : Availability.unavailable("provider returned no availability");
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("availability check failed: " + e);
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
