package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;

/** Builds the model of a preset, with random weights, on a backend. */
@FunctionalInterface
public interface BenchModelFactory {

    /**
     * Opens a model.
     *
     * @param preset  the shape
     * @param dcmha   false for the plain-MHA baseline
     * @param backend where it runs
     * @param seed    seed of the random weights
     */
    BenchModel open(BenchPreset preset, boolean dcmha, Backend backend, long seed);
}
