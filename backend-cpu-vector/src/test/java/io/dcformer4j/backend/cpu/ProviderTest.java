package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.Backends;
import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

import static org.assertj.core.api.Assertions.assertThat;

/** Registration through ServiceLoader and the provider's report. */
class ProviderTest {

    @Test
    void registeredAsCpuWithPriorityTen() {
        BackendProvider cpu = ServiceLoader.load(BackendProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("cpu")).findFirst().orElseThrow();
        assertThat(cpu.priority()).isEqualTo(10);
        assertThat(cpu.availability().available()).isTrue();
        assertThat(cpu.availability().reason()).contains("floats");
    }

    @Test
    void openedByNameWithTheRequestedThreads() {
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(3))) {
            assertThat(b.name()).isEqualTo("cpu");
            assertThat(b.description()).contains("3 worker threads");
            assertThat(b.options().threads()).isEqualTo(3);
        }
    }
}
