package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriverProbeTest {

    @Test
    void searchesLdLibraryPathThenLdSoConfThenDefaultsButNeverStubs(@TempDir Path etc) throws IOException {
        Files.writeString(etc.resolve("ld.so.conf"), "include /etc/ld.so.conf.d/*.conf\n/opt/a/lib\n");
        Files.createDirectories(etc.resolve("ld.so.conf.d"));
        Files.writeString(etc.resolve("ld.so.conf.d/b.conf"), "# comment\n/opt/b/lib\n/usr/local/cuda/lib64/stubs\n");
        List<Path> dirs = DriverProbe.searchDirectories("/first:/usr/local/cuda/lib64/stubs::/second", etc);
        assertThat(dirs).startsWith(Path.of("/first"), Path.of("/second"), Path.of("/opt/a/lib"), Path.of("/opt/b/lib"));
        assertThat(dirs).contains(Path.of("/usr/local/nvidia/lib64"), Path.of("/usr/lib/x86_64-linux-gnu"));
        assertThat(dirs).noneMatch(p -> p.toString().contains("stubs"));
    }

    @Test
    void findsTheDriverInTheFirstDirectoryThatHasIt(@TempDir Path root) throws IOException {
        Path a = Files.createDirectories(root.resolve("a"));
        Path b = Files.createDirectories(root.resolve("b"));
        Path c = Files.createDirectories(root.resolve("c"));
        Files.writeString(b.resolve("libcuda.so.1"), "not really");
        Files.writeString(c.resolve("libcuda.so.1"), "not really");
        assertThat(DriverProbe.findDriver(List.of(a, b, c))).contains(b.resolve("libcuda.so.1"));
        assertThat(DriverProbe.findDriver(List.of(a))).isEmpty();
    }

    @Test
    void mapsPtxIsaVersionsToDriverVersions() {
        assertThat(DriverProbe.driverVersionForPtxIsa("9.0")).isEqualTo(13000);
        assertThat(DriverProbe.driverVersionForPtxIsa("9.1")).isEqualTo(13010);
        assertThat(DriverProbe.driverVersionForPtxIsa("8.5")).isEqualTo(12050);
        assertThat(DriverProbe.driverVersionForPtxIsa("8.8")).isEqualTo(12090);
        assertThat(DriverProbe.driverVersionForPtxIsa("8.0")).isEqualTo(12000);
        assertThat(DriverProbe.driverVersionForPtxIsa("7.8")).isEqualTo(11080);
        assertThat(DriverProbe.driverVersionForPtxIsa("7.0")).isEqualTo(11000);
        assertThatThrownBy(() -> DriverProbe.driverVersionForPtxIsa("6.5")).hasMessageContaining("older than 7.0");
        assertThat(DriverProbe.formatVersion(12060)).isEqualTo("12.6");
        assertThat(DriverProbe.formatVersion(13000)).isEqualTo("13.0");
    }

    @Test
    void readsTheIsaVersionOfPtxText() {
        assertThat(DriverProbe.ptxIsaVersion("//\n// Generated\n.version 8.7\n.target sm_80\n")).isEqualTo("8.7");
        assertThatThrownBy(() -> DriverProbe.ptxIsaVersion(".target sm_80\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(".version");
    }

    @Test
    void theKeptPtxTargetsSm80AndEveryCuda12DriverLoadsIt() throws IOException {
        for (String module : io.dcformer4j.backend.cuda.launch.Kernels.modules()) {
            try (InputStream in = DriverProbe.class.getResourceAsStream(CudaContext.PTX_RESOURCE_DIR + module + ".ptx")) {
                assertThat(in).as("PTX resource of module " + module).isNotNull();
                String text = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                assertThat(text).contains(".target sm_80").contains(".address_size 64");
            }
        }
        // ISA 7.0 needs a CUDA 11.0 driver; JCuda 12's natives make 12.0 the floor, so every 12.x and 13.x driver runs it.
        assertThat(DriverProbe.keptPtxIsa()).isEqualTo("7.0");
        assertThat(DriverProbe.requiredDriverVersion()).isEqualTo(12000);
        assertThat(DriverProbe.requirementReason()).isEqualTo("JCuda 12's driver natives need 12.0, the kernels' PTX ISA 7.0 needs 11.0");
    }
}
