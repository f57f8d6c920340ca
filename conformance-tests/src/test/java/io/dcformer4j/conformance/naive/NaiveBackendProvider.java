package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;

/**
 * Provider of the test-only {@link NaiveBackend}. Deliberately not registered with ServiceLoader: it stands
 * for a third-party backend that certifies itself by subclassing the suite.
 */
public final class NaiveBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "naive";
    }

    @Override
    public int priority() {
        return -100;
    }

    @Override
    public Availability availability() {
        return Availability.available("scalar float32 reference backend (test only)");
    }

    @Override
    public Backend open(BackendOptions options) {
        return new NaiveBackend(options);
    }
}
