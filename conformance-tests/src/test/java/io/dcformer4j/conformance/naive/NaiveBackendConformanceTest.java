package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.conformance.BackendConformanceSuite;

/** The README's "Certifying a backend" example, compiled and run as it is printed there. */
class NaiveBackendConformanceTest extends BackendConformanceSuite {
    @Override
    protected Backend openBackend(BackendOptions options) {
        return new NaiveBackendProvider().open(options);
    }
}
