package io.dcformer4j;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One CPU backend with two workers for a test class, opened before its first test and closed after its last:
 * {@code @RegisterExtension static final CpuBackendFixture CPU = new CpuBackendFixture();}, then
 * {@code CPU.backend()}.
 */
public final class CpuBackendFixture implements BeforeAllCallback, AfterAllCallback {
    private Backend backend;

    /** The open backend (between the class's first and last test). */
    public Backend backend() {
        if (backend == null) {
            throw new IllegalStateException("the fixture's backend is open only while the test class runs");
        }
        return backend;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        backend = Backends.open("cpu", BackendOptions.withThreads(2));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        backend.close();
        backend = null;
    }
}
