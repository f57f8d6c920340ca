package io.dcformer4j.conformance;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendSelector;
import io.dcformer4j.api.Backends;
import org.junit.jupiter.api.BeforeEach;

/**
 * The CUDA backend, certified by the kit where a usable GPU exists. Elsewhere every test is reported as
 * skipped (aborted by an assumption carrying the provider's reason), never as passed.
 */
class CudaConformanceTest extends BackendConformanceSuite {

    private static Availability cuda() {
        return Backends.providers().stream().filter(p -> p.name().equals("cuda")).findFirst()
                .map(BackendSelector::safeAvailability)
                .orElse(Availability.unavailable("no provider named 'cuda' on the class path"));
    }

    @BeforeEach
    void requireCuda() {
        Availability a = cuda();
        assumeTrue(a.available(), () -> "cuda backend unavailable: " + a.reason());
    }

    @Override
    protected Backend openBackend(BackendOptions options) {
        Availability a = cuda();
        assumeTrue(a.available(), () -> "cuda backend unavailable: " + a.reason());
        return Backends.open("cuda", options);
    }
}
