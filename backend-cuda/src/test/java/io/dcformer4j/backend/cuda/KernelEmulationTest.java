package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Executes the CUDA kernels' source on the CPU: {@code src/test/emu/run-emu.sh} compiles the .cu files with
 * g++ against a stand-in of the CUDA thread model (one thread per CUDA thread, block barriers, warp
 * shuffles, a model of the mma.sync fragments) and compares every kernel with float64 references on
 * awkward shapes, including the fused attention over rings, windows, chunked prefill and decode. Skipped
 * where g++ (C++20) is not installed.
 */
class KernelEmulationTest {

    @Test
    void everyKernelMatchesItsFloat64ReferenceOnTheCpuEmulator() throws Exception {
        assumeTrue(Gpp.installed(), "g++ is not installed");
        Process p = new ProcessBuilder("bash", "src/test/emu/run-emu.sh", Path.of("target/emu").toAbsolutePath().toString())
                .redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        boolean finished = p.waitFor(10, TimeUnit.MINUTES);
        String log = new String(out, StandardCharsets.UTF_8);
        assertThat(finished).as("emulator finished; log:\n" + log).isTrue();
        assertThat(log).as("emulator log").contains("PASSED: 0 failure(s)").doesNotContain("FAIL ");
        assertThat(p.exitValue()).as("emulator exit status; log:\n" + log).isZero();
    }
}
