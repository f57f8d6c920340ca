package io.dcformer4j.api;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Discovery and selection of backends with {@link ServiceLoader}. Nothing is cached: every call loads the
 * providers afresh, so two backends (or the same backend twice) can be open in one JVM.
 *
 * <pre>{@code
 * try (Backend backend = Backends.open()) {            // property, environment, or best available
 *     ...
 * }
 * try (Backend cpu = Backends.open("cpu", BackendOptions.withThreads(2))) { ... }
 * }</pre>
 */
public final class Backends {
    private Backends() {
    }

    /** Every provider visible to this module's class loader, highest priority first. */
    public static List<BackendProvider> providers() {
        return selector().providers();
    }

    /** The selector over the discovered providers, reading real system properties and environment. */
    public static BackendSelector selector() {
        return new BackendSelector(load(), System::getProperty, System::getenv);
    }

    /**
     * Opens the backend chosen by property, environment or priority, with default options. When none was
     * named and the best available provider fails to open, one warning line goes to standard error and the
     * next available provider is opened (see {@link #select}).
     */
    public static Backend open() {
        return selector().open(null, BackendOptions.defaults());
    }

    /** Opens the named backend with default options; a missing or unavailable name is an error. */
    public static Backend open(String name) {
        return selector().open(name, BackendOptions.defaults());
    }

    /** Opens the named backend ({@code null}: by the selection rules) with options. */
    public static Backend open(String name, BackendOptions options) {
        return selector().open(name, options);
    }

    /**
     * Opens the named backend ({@code null}: by the selection rules) and says how it was chosen, including
     * any provider that failed to open before it (each also reported as one warning line on standard error;
     * {@code selector().withWarnings(sink).select(...)} sends them elsewhere).
     */
    public static BackendSelection select(String name, BackendOptions options) {
        return selector().select(name, options);
    }

    /** A multi-line report of every provider and its availability. */
    public static String describe() {
        return selector().describe();
    }

    private static List<BackendProvider> load() {
        List<BackendProvider> list = new ArrayList<>();
        ServiceLoader<BackendProvider> loader = ServiceLoader.load(BackendProvider.class);
        var it = loader.iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                list.add(it.next());
            } catch (ServiceConfigurationError e) {
                // A broken plugin must not hide the healthy ones; it is reported as unavailable.
                list.add(new BrokenProvider(e));
            }
        }
        return list;
    }

    private record BrokenProvider(ServiceConfigurationError error) implements BackendProvider {
        @Override
        public String name() {
            return "broken-provider-" + Integer.toHexString(System.identityHashCode(error));
        }

        @Override
        public int priority() {
            return Integer.MIN_VALUE;
        }

        @Override
        public Availability availability() {
            return Availability.unavailable("provider could not be loaded: " + error.getMessage());
        }

        @Override
        public Backend open(BackendOptions options) {
            throw new BackendUnavailableException(availability().reason());
        }
    }
}
