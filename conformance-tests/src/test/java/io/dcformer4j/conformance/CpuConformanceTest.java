package io.dcformer4j.conformance;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;

/** Our Vector API CPU backend, certified by the kit. */
class CpuConformanceTest extends BackendConformanceSuite {
    @Override
    protected Backend openBackend(BackendOptions options) {
        return Backends.open("cpu", options);
    }
}
