package io.dcformer4j.spark;

import java.io.Serializable;

/**
 * Which model an executor opens, and how: the key of the per-JVM model cache.
 *
 * @param path    a local directory, a {@code file:} URI, any Hadoop file system URI ({@code hdfs:}, {@code s3a:},
 *                ...: copied to local disk once per executor), or {@code demo:dcformer} / {@code demo:mha} for
 *                the shipped demo models
 * @param backend the backend name ({@code cpu}, {@code cuda}), or empty for the selection rules
 * @param threads backend worker threads, 0 for all processors
 */
public record ModelSpec(String path, String backend, int threads) implements Serializable {

    /** Validates the fields. */
    public ModelSpec {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("the model path is not set: give a model directory, a file system URI "
                    + "or demo:dcformer");
        }
        backend = backend == null ? "" : backend.strip();
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (all processors) or positive, got " + threads);
        }
    }
}
