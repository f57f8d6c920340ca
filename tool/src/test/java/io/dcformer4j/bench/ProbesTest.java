package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The limit probes on small sizes: they run and return sane numbers (speed itself is not asserted). */
class ProbesTest {

    @Test
    void bandwidthProbeReturnsAPositiveRate() {
        assertThat(BandwidthProbe.readGbPerS(8L << 20, 2, 2)).isPositive().isFinite();
    }

    @Test
    void fmaPeakProbeReturnsAPositiveRateAndComputesTheRecurrence() {
        assertThat(FmaPeakProbe.gflops(1, 0.01, 1)).isPositive();
        // One trip: every lane of accumulator i holds (seed + i) * 0.999 + 0.001.
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        float expected = 0;
        for (int i = 0; i < 12; i++) {
            expected += lanes * Math.fma(2f + i, 0.999f, 1e-3f);
        }
        assertThat(FmaPeakProbe.fma(1, 2f)).isCloseTo(expected, org.assertj.core.api.Assertions.within(expected * 1e-5f));
    }

    @Test
    void streamingSumReadsEveryWord() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(64 * 37, 64);
            for (long i = 0; i < s.byteSize() / 8; i++) {
                s.setAtIndex(ValueLayout.JAVA_LONG, i, i);
            }
            long n = s.byteSize() / 8;
            assertThat(BandwidthProbe.sum(s)).isEqualTo(n * (n - 1) / 2);
        }
    }

    @Test
    void gemmProbeMeasuresTheBackendsLinear() {
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(2))) {
            assertThat(GemmProbe.gflops(b, new GemmShape(8, 24, 16), DType.BF16, 2, 0.001)).isPositive().isFinite();
            assertThat(b.liveTensors()).isZero();
        }
    }

    @Test
    void residentSetIsReadFromProcStatus() {
        String status = "Name:\tjava\nVmHWM:\t  200000 kB\nVmRSS:\t  123456 kB\nVmSwap:\t0 kB\n";
        assertThat(ProcessMemory.parseKb(status, "VmRSS:")).isEqualTo(123456L * 1024);
        assertThat(ProcessMemory.parseKb(status, "VmHWM:")).isEqualTo(200000L * 1024);
        assertThat(ProcessMemory.parseKb("Name:\tjava\n", "VmRSS:")).isEqualTo(-1);
        assertThat(ProcessMemory.parseKb(null, "VmRSS:")).isEqualTo(-1);
        if (Files.isReadable(Path.of("/proc/self/status"))) {
            assertThat(ProcessMemory.residentBytes()).isPositive();
            assertThat(ProcessMemory.peakResidentBytes()).isGreaterThanOrEqualTo(ProcessMemory.residentBytes() / 2);
        }
    }

    @Test
    void missingOrInvalidOpenBlasIsNotFound(@TempDir Path dir) throws IOException {
        Path notALibrary = Files.writeString(dir.resolve("libopenblas.so.0"), "not an ELF file");
        assertThat(OpenBlas.find(List.of(dir.resolve("absent.so"), notALibrary))).isEmpty();
        Path libc = Path.of("/lib/x86_64-linux-gnu/libc.so.6");
        if (Files.isRegularFile(libc)) {
            // a loadable library without cblas_sgemm
            assertThat(OpenBlas.find(List.of(libc))).isEmpty();
        }
    }

    @Test
    void systemOpenBlasComputesTheLinearProduct() {
        Optional<OpenBlas> found = OpenBlas.find(OpenBlas.defaultCandidates());
        assumeTrue(found.isPresent(), "no system OpenBLAS installed (libopenblas-dev)");
        try (OpenBlas blas = found.get(); Arena a = Arena.ofConfined()) {
            GemmShape s = new GemmShape(3, 5, 4);
            MemorySegment x = a.allocate(4L * 3 * 4); // [M, K]
            MemorySegment w = a.allocate(4L * 5 * 4); // [N, K]
            MemorySegment c = a.allocate(4L * 3 * 5); // [M, N]
            for (int i = 0; i < 12; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f - 2);
            }
            for (int i = 0; i < 20; i++) {
                w.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1.5f - i * 0.25f);
            }
            blas.setThreads(1);
            blas.sgemm(s, x, w, c);
            for (int m = 0; m < 3; m++) {
                for (int n = 0; n < 5; n++) {
                    float expected = 0;
                    for (int k = 0; k < 4; k++) {
                        expected += x.getAtIndex(ValueLayout.JAVA_FLOAT, m * 4 + k) * w.getAtIndex(ValueLayout.JAVA_FLOAT, n * 4 + k);
                    }
                    assertThat(c.getAtIndex(ValueLayout.JAVA_FLOAT, m * 5 + n)).isEqualTo(expected);
                }
            }
            assertThat(blas.gflops(new GemmShape(16, 16, 16), 1, 0.001)).isPositive();
            if (System.getenv("OPENBLAS_CORETYPE") == null) {
                // the generic SSE3 fallback would be a meaningless yardstick on any AVX2 machine
                assertThat(blas.coreType()).isNotEqualToIgnoringCase("Prescott");
            }
        }
    }
}
