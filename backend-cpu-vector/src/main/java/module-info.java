/**
 * The CPU backend of dcformer4j: every {@link io.dcformer4j.api.Backend} operation on the Java Vector API
 * ({@code FloatVector} with the preferred species), run on a fixed pool of worker threads.
 */
module io.dcformer4j.backend.cpu {
    requires io.dcformer4j.api;
    requires jdk.incubator.vector;

    provides io.dcformer4j.api.BackendProvider with io.dcformer4j.backend.cpu.CpuBackendProvider;
}
