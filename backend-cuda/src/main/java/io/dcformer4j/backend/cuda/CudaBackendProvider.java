package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendUnavailableException;

/**
 * Registers the CUDA backend under the name {@code "cuda"} with priority 100 (preferred over the CPU when a
 * usable GPU is present). Availability is decided without loading JCuda's natives; they load in
 * {@link #open}, so having this jar on a CPU-only class path is harmless.
 */
public final class CudaBackendProvider implements BackendProvider {
    /** The name users select this backend by. */
    public static final String NAME = "cuda";
    /** Preference over the CPU backend (10). */
    public static final int PRIORITY = 100;

    /** Creates the provider; touches no native code. */
    public CudaBackendProvider() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    /**
     * Available where a CUDA driver and a compute capability ≥ 8.0 device exist; also, for testing, where the
     * system property {@code dcformer4j.cuda.emulator} names the CPU emulator library of the kernels.
     */
    @Override
    public Availability availability() {
        String emulator = System.getProperty(EmulatedDevice.PROPERTY);
        if (emulator != null && !emulator.isBlank()) {
            return java.nio.file.Files.isRegularFile(java.nio.file.Path.of(emulator))
                    ? Availability.available("CPU emulation of the CUDA kernels (" + emulator + "), for testing only")
                    : Availability.unavailable(EmulatedDevice.PROPERTY + " names " + emulator + ", which is not a file");
        }
        return DriverProbe.availability();
    }

    /**
     * Opens the backend on device {@code cuda.device} (default 0).
     *
     * @throws BackendUnavailableException when no usable driver or device is present, or the context cannot be created
     */
    @Override
    public Backend open(BackendOptions options) {
        Availability a = availability();
        if (!a.available()) {
            throw new BackendUnavailableException("cuda backend: " + a.reason());
        }
        BackendOptions o = options == null ? BackendOptions.defaults() : options;
        return CudaBackend.open(o);
    }
}
