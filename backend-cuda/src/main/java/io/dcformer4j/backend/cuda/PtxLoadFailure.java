package io.dcformer4j.backend.cuda;

/**
 * The one-line explanation of a failed {@code cuModuleLoadData}: the driver's error name, and what it means
 * for this backend's PTX in terms of the driver version needed and the one present. Kept apart from the JCuda
 * calls so the wording is tested without a GPU.
 */
final class PtxLoadFailure {
    private PtxLoadFailure() {
    }

    /**
     * @param module             the PTX module (for example {@code "attention"})
     * @param error              the driver's error name, for example {@code "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"}
     * @param isa                the PTX ISA version the module declares, for example {@code "7.0"}
     * @param requiredDriver     the driver API version the backend needs (1000 × major + 10 × minor)
     * @param presentDriver      the driver API version present, or 0 when it could not be read
     * @param computeCapability  the device's compute capability × 10 (86 for sm_86), or 0 when unknown
     */
    static String message(String module, String error, String isa, int requiredDriver, int presentDriver, int computeCapability) {
        String present = presentDriver > 0 ? DriverProbe.formatVersion(presentDriver) : "unknown";
        String head = "cannot load the kernels of " + module + ".ptx (PTX ISA " + isa + "): " + error + " — ";
        String needs = "needs a CUDA driver ≥ " + DriverProbe.formatVersion(requiredDriver) + ", this one is " + present;
        String tooOld = presentDriver > 0 && presentDriver < requiredDriver ? "; update the NVIDIA driver" : "";
        String device = computeCapability > 0 ? "sm_" + computeCapability : "this GPU";
        return head + switch (error) {
            case "CUDA_ERROR_UNSUPPORTED_PTX_VERSION" -> "the driver cannot JIT-compile this PTX ISA: " + needs
                    + (tooOld.isEmpty() ? "; the driver is recent enough, so its JIT is older than it reports" : tooOld);
            case "CUDA_ERROR_NO_BINARY_FOR_GPU" -> "the driver produced no code for " + device + ": " + needs
                    + (tooOld.isEmpty() ? " and a GPU of compute capability ≥ 8.0" : tooOld);
            case "CUDA_ERROR_INVALID_PTX" -> "the driver rejected the PTX: " + needs
                    + (tooOld.isEmpty() ? "; with a driver this recent the PTX in the jar is damaged, rebuild backend-cuda" : tooOld);
            case "CUDA_ERROR_JIT_COMPILER_NOT_FOUND" -> "the driver's PTX JIT compiler (libnvidia-ptxjitcompiler.so.1) is"
                    + " missing; install it with the driver (in a container: NVIDIA_DRIVER_CAPABILITIES=compute,utility)";
            default -> needs + tooOld;
        };
    }
}
