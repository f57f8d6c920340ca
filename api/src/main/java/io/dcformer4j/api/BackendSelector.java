package io.dcformer4j.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Chooses a backend among a fixed set of providers. The rules, in order: an explicit name; the system
 * property {@value #PROPERTY}; the environment variable {@value #ENVIRONMENT}; else the available provider
 * with the highest priority. A named backend that is missing, unavailable or fails to open is an error that
 * lists every provider and its status: there is never a fall-back from a backend that was asked for. When no
 * backend was named and the best available provider fails to open (a driver that reports a device but
 * cannot create a context, a missing native library), selection warns in one line, for example
 * {@code cuda: cannot open device 0: ...; using cpu}, and opens the next available provider by priority;
 * {@link BackendSelection} records what happened.
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
    private final Consumer<String> warnings;

    /**
     * @param providers        the providers to choose among
     * @param systemProperties lookup of system properties (for example {@code System::getProperty})
     * @param environment      lookup of environment variables (for example {@code System::getenv})
     */
    public BackendSelector(List<BackendProvider> providers, UnaryOperator<String> systemProperties,
                           UnaryOperator<String> environment) {
        this(providers, systemProperties, environment, System.err::println);
    }

    private BackendSelector(List<BackendProvider> providers, UnaryOperator<String> systemProperties,
                            UnaryOperator<String> environment, Consumer<String> warnings) {
        this.providers = List.copyOf(providers);
        this.systemProperties = Objects.requireNonNull(systemProperties);
        this.environment = Objects.requireNonNull(environment);
        this.warnings = Objects.requireNonNull(warnings);
    }

    /**
     * The same selector, sending its fall-back warnings (one line each, no line break) to {@code sink} instead of
     * standard error; {@code line -> {}} silences them ({@link BackendSelection#warnings()} still has them).
     */
    public BackendSelector withWarnings(Consumer<String> sink) {
        return new BackendSelector(providers, systemProperties, environment, sink);
    }

    /** The providers, highest priority first. */
    public List<BackendProvider> providers() {
        List<BackendProvider> sorted = new ArrayList<>(providers);
        sorted.sort(Comparator.comparingInt(BackendProvider::priority).reversed().thenComparing(BackendProvider::name));
        return sorted;
    }

    /** Where the choice comes from and what it is; see {@link #choose(String)}. */
    public record Choice(BackendProvider provider, String source) {
        /** Whether the provider was chosen by priority rather than asked for by name, property or environment. */
        public boolean automatic() {
            return source.equals(AUTOMATIC);
        }
    }

    private static final String AUTOMATIC = "highest-priority available provider";

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
                return new Choice(p, AUTOMATIC);
            }
        }
        throw new BackendUnavailableException("no backend is available. " + describe());
    }

    /** Opens the backend the rules select; see {@link #select}. */
    public Backend open(String explicitName, BackendOptions options) {
        return select(explicitName, options).backend();
    }

    /**
     * Opens the backend the rules select and says how. A backend named explicitly (argument, property or
     * environment) that fails to open is an error. Otherwise every available provider is tried by priority
     * until one opens; each one that fails to open is reported to the warning sink in one line
     * ({@code cuda: cannot open device 0: ...; using cpu}) and listed in {@link BackendSelection#fallbacks()}.
     * Invalid options ({@link IllegalArgumentException}) are the caller's error and are never skipped over.
     *
     * @throws BackendUnavailableException when nothing suitable is available, or nothing available opens
     */
    public BackendSelection select(String explicitName, BackendOptions options) {
        Choice c = choose(explicitName);
        if (!c.automatic()) {
            try {
                return new BackendSelection(c.provider().open(options), c.source(), List.of());
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException | LinkageError | ServiceConfigurationError e) {
                throw new BackendUnavailableException("backend '" + c.provider().name() + "' (" + c.source()
                        + ") failed to open: " + reason(c.provider().name(), e) + ". " + describe(), e);
            }
        }
        List<BackendSelection.FailedOpen> failed = new ArrayList<>();
        Throwable last = null;
        for (BackendProvider p : providers()) {
            if (!safeAvailability(p).available()) {
                continue;
            }
            try {
                Backend b = p.open(options);
                BackendSelection s = new BackendSelection(b, failed.isEmpty() ? AUTOMATIC
                        : "next available provider by priority", failed);
                s.warnings().forEach(warnings);
                return s;
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException | LinkageError | ServiceConfigurationError e) {
                failed.add(new BackendSelection.FailedOpen(p.name(), reason(p.name(), e)));
                last = e;
            }
        }
        StringBuilder sb = new StringBuilder("no available backend could be opened:");
        for (BackendSelection.FailedOpen f : failed) {
            sb.append(' ').append(f.provider()).append(": ").append(f.reason()).append(';');
        }
        throw new BackendUnavailableException(sb.append(' ').append(describe()).toString(), last);
    }

    /**
     * Why a provider failed to open, on one line and without a leading {@code "<name>: "} or
     * {@code "<name> backend: "} (the warning names the provider itself). Errors other than
     * {@link BackendUnavailableException} keep their class name, which is the useful part of a
     * {@code NoClassDefFoundError} or {@code UnsatisfiedLinkError}.
     */
    static String reason(String provider, Throwable e) {
        String text = e instanceof BackendUnavailableException && e.getMessage() != null ? e.getMessage() : e.toString();
        int newline = text.indexOf('\n');
        String line = (newline < 0 ? text : text.substring(0, newline)).strip();
        for (String prefix : new String[] {provider + " backend: ", provider + ": "}) {
            if (line.startsWith(prefix)) {
                line = line.substring(prefix.length());
            }
        }
        return line.isEmpty() ? e.getClass().getName() : line;
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
