package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The one-line module-load errors name the driver version needed and the one present. */
class PtxLoadFailureTest {

    @Test
    void unsupportedPtxVersionOnAnOldDriverSaysWhichDriverIsNeededAndWhichIsPresent() {
        String m = PtxLoadFailure.message("attention", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "7.0", 12000, 11040, 86);
        assertThat(m).isEqualTo("cannot load the kernels of attention.ptx (PTX ISA 7.0): CUDA_ERROR_UNSUPPORTED_PTX_VERSION — "
                + "the driver cannot JIT-compile this PTX ISA: needs a CUDA driver ≥ 12.0, this one is 11.4; update the NVIDIA driver");
    }

    @Test
    void unsupportedPtxVersionOnARecentEnoughDriverSaysSoInsteadOfAskingForAnUpdate() {
        String m = PtxLoadFailure.message("linear", "CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "7.0", 12000, 12020, 80);
        assertThat(m).contains("needs a CUDA driver ≥ 12.0, this one is 12.2").doesNotContain("update the NVIDIA driver")
                .contains("JIT is older than it reports");
    }

    @Test
    void noBinaryForGpuNamesTheDeviceAndBothRequirements() {
        String old = PtxLoadFailure.message("linear", "CUDA_ERROR_NO_BINARY_FOR_GPU", "7.0", 12000, 11080, 90);
        assertThat(old).isEqualTo("cannot load the kernels of linear.ptx (PTX ISA 7.0): CUDA_ERROR_NO_BINARY_FOR_GPU — "
                + "the driver produced no code for sm_90: needs a CUDA driver ≥ 12.0, this one is 11.8; update the NVIDIA driver");
        String recent = PtxLoadFailure.message("linear", "CUDA_ERROR_NO_BINARY_FOR_GPU", "7.0", 12000, 12080, 75);
        assertThat(recent).endsWith("no code for sm_75: needs a CUDA driver ≥ 12.0, this one is 12.8 and a GPU of compute capability ≥ 8.0");
    }

    @Test
    void invalidPtxAndOtherErrorsStayOnOneLine() {
        String invalid = PtxLoadFailure.message("elementwise", "CUDA_ERROR_INVALID_PTX", "7.0", 12000, 13000, 90);
        assertThat(invalid).contains("the driver rejected the PTX: needs a CUDA driver ≥ 12.0, this one is 13.0")
                .contains("the PTX in the jar is damaged");
        String unknownVersion = PtxLoadFailure.message("elementwise", "CUDA_ERROR_INVALID_PTX", "7.0", 12000, 0, 0);
        assertThat(unknownVersion).contains("this one is unknown").doesNotContain("update");
        String jit = PtxLoadFailure.message("attention", "CUDA_ERROR_JIT_COMPILER_NOT_FOUND", "7.0", 12000, 12040, 80);
        assertThat(jit).contains("libnvidia-ptxjitcompiler.so.1");
        String other = PtxLoadFailure.message("attention", "CUDA_ERROR_OUT_OF_MEMORY", "7.0", 12000, 12040, 80);
        assertThat(other).endsWith("CUDA_ERROR_OUT_OF_MEMORY — needs a CUDA driver ≥ 12.0, this one is 12.4");
        for (String s : new String[] {invalid, unknownVersion, jit, other}) {
            assertThat(s).doesNotContain("\n");
        }
    }
}
