/**
 * The CUDA backend: kernels compiled to PTX, run through JCuda's driver API with a device-resident model
 * and fused DCMHA attention. Available only where a CUDA driver and a compute capability ≥ 8.0 device exist.
 */
module io.dcformer4j.backend.cuda {
    requires io.dcformer4j.api;
    requires jcuda;

    provides io.dcformer4j.api.BackendProvider with io.dcformer4j.backend.cuda.CudaBackendProvider;
}
