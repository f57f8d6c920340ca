package io.dcformer4j.api;

import java.util.Map;
import java.util.TreeMap;

/**
 * Options for opening a backend.
 *
 * @param threads    worker threads for host-side parallelism; 0 means the backend's default (the
 *                   number of available processors for the CPU backend)
 * @param properties backend-specific settings (for example {@code "cuda.device" -> "1"})
 */
public record BackendOptions(int threads, Map<String, String> properties) {
    /** Validates and freezes the fields. */
    public BackendOptions {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (default) or positive, got " + threads);
        }
        properties = Map.copyOf(properties == null ? Map.of() : properties);
    }

    /** Backend defaults. */
    public static BackendOptions defaults() {
        return new BackendOptions(0, Map.of());
    }

    /** Defaults with a given thread count. */
    public static BackendOptions withThreads(int threads) {
        return new BackendOptions(threads, Map.of());
    }

    /** These options with one more property. */
    public BackendOptions with(String key, String value) {
        Map<String, String> m = new TreeMap<>(properties);
        m.put(key, value);
        return new BackendOptions(threads, m);
    }

    /** The thread count to use, resolving 0 to the number of available processors. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
