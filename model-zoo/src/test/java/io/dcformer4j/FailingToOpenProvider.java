package io.dcformer4j;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;

/**
 * A test provider that plays the GPU of a broken installation: while the system property {@value #SWITCH} is
 * {@code true} it reports itself available with the highest priority, and then fails to open with the
 * {@code NoClassDefFoundError} a missing JCuda jar gives. Otherwise it is unavailable, so it changes nothing
 * for the other tests.
 */
public final class FailingToOpenProvider implements BackendProvider {
    /** System property that switches the provider on. */
    public static final String SWITCH = "dcformer4j.test.failingToOpen";
    /** Its name. */
    public static final String NAME = "failing-gpu";
    /** What its open throws. */
    public static final String MISSING_CLASS = "jcuda/driver/CUdeviceptr";

    /** The service-loader constructor. */
    public FailingToOpenProvider() {
    }

    /** Runs {@code body} with the provider switched on. */
    public static void switchedOn(Runnable body) {
        System.setProperty(SWITCH, "true");
        try {
            body.run();
        } finally {
            System.clearProperty(SWITCH);
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 1000;
    }

    @Override
    public Availability availability() {
        return Boolean.getBoolean(SWITCH) ? Availability.available("a device that will not open")
                : Availability.unavailable("test provider, switched off (" + SWITCH + ")");
    }

    @Override
    public Backend open(BackendOptions options) {
        throw new NoClassDefFoundError(MISSING_CLASS);
    }
}
