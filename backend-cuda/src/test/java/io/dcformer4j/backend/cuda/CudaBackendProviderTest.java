package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.api.Backends;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

class CudaBackendProviderTest {

    private static boolean driverPresent() {
        return DriverProbe.findDriver(DriverProbe.searchDirectories(System.getenv("LD_LIBRARY_PATH"),
                java.nio.file.Path.of("/etc"))).isPresent();
    }

    @Test
    void isFoundByServiceLoaderUnderItsName() {
        assertThat(ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cuda")).toList())
                .singleElement()
                .satisfies(p -> assertThat(p.priority()).isEqualTo(100));
    }

    @Test
    void withoutDriverItIsUnavailableWithAHumanReason() {
        assumeTrue(!driverPresent(), "a CUDA driver library is installed here");
        Availability a = new CudaBackendProvider().availability();
        assertThat(a.available()).isFalse();
        assertThat(a.reason()).contains("no CUDA driver library (libcuda.so.1) found");
        assertThat(a.reason()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void withoutDriverOpeningFailsCleanlyWithTheReason() {
        assumeTrue(!driverPresent(), "a CUDA driver library is installed here");
        assertThatThrownBy(() -> new CudaBackendProvider().open(BackendOptions.defaults()))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("cuda backend: no CUDA driver library (libcuda.so.1) found");
    }

    @Test
    void withoutDriverSelectionListsCudaAsUnavailableAndNamedSelectionFails() {
        assumeTrue(!driverPresent(), "a CUDA driver library is installed here");
        assertThat(Backends.describe()).contains("cuda (priority 100): unavailable — no CUDA driver library");
        assertThatThrownBy(() -> Backends.open("cuda"))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("backend 'cuda' (requested by name) is unavailable");
    }

    @Test
    void availabilityIsStableAcrossCalls() {
        CudaBackendProvider p = new CudaBackendProvider();
        assertThat(p.availability()).isEqualTo(p.availability());
    }
}
