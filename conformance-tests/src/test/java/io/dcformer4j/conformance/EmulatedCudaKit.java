package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;

/**
 * The conformance kit on the {@code cuda} provider while it runs on the CPU emulator of its kernels. Named so
 * that Surefire does not run it by itself: {@link EmulatedCudaSubsetTest} selects the tests it runs.
 */
class EmulatedCudaKit extends BackendConformanceSuite {
    @Override
    protected Backend openBackend(BackendOptions options) {
        Backend b = Backends.open("cuda", options);
        assertThat(b.description()).as("the cuda backend runs on the emulator").contains("CPU emulation");
        return b;
    }
}
