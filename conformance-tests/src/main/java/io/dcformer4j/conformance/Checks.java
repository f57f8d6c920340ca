package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;

/**
 * Base of every group of checks: a group reaches the test's {@link TckContext} through the enclosing
 * {@link BackendConformanceSuite} instance.
 */
abstract class Checks {
    /** Sizes that catch vector tails and blocking edges (8-float vectors, 16- and 64-element blocks). */
    static final int[] AWKWARD = {1, 3, 7, 17, 63, 65, 1000};

    /** The current test's context. */
    abstract TckContext tck();

    /** The backend under test (two workers). */
    Backend backend() {
        return tck().backend();
    }
}
