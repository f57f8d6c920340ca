package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendUnavailableException;

/**
 * Registers the Vector API CPU backend under the name {@code "cpu"}. It is available whenever the
 * {@code jdk.incubator.vector} module is present in the running JVM.
 */
public final class CpuBackendProvider implements BackendProvider {
    /** The name users select this backend by. */
    public static final String NAME = "cpu";

    /** Creates the provider; cheap, touches no Vector API class. */
    public CpuBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        try {
            VectorProbe.species(System.getProperty(VectorProbe.BITS_PROPERTY));
            return Availability.available("Java Vector API, " + VectorProbe.describe() + ", "
                    + Runtime.getRuntime().availableProcessors() + " processors");
        } catch (IllegalArgumentException e) {
            return Availability.unavailable(e.getMessage());
        } catch (LinkageError e) {
            return Availability.unavailable("the Vector API module jdk.incubator.vector is not present "
                    + "(start the JVM with --add-modules jdk.incubator.vector): " + e);
        }
    }

    @Override
    public Backend open(BackendOptions options) {
        Availability a = availability();
        if (!a.available()) {
            throw new BackendUnavailableException("cpu backend: " + a.reason());
        }
        return new CpuBackend(options == null ? BackendOptions.defaults() : options);
    }
}
