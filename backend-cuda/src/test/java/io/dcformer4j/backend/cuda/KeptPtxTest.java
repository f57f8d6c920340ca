package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.backend.cuda.launch.Kernels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The stale-PTX check of every build, without nvcc: the kept PTX records in {@code ptx/sources.sha256} the
 * SHA-256 of every .cu/.cuh file it was compiled from, the nvcc flags and the declared PTX ISA
 * ({@code build-ptx.sh --refresh} writes it). A source edited without refreshing the PTX, or flags changed in
 * the script, fail here with the command that fixes it. The kernel names and signatures are checked against
 * the kept PTX by {@code KernelSignatureTest}; byte-exact regeneration is the {@code -Pcuda-ptx} profile's job.
 */
class KeptPtxTest {
    private static final Path CUDA_DIR = Path.of("src/main/cuda");
    private static final Path KEPT = Path.of("src/main/resources/io/dcformer4j/backend/cuda/ptx");
    private static final String REFRESH = "bash backend-cuda/src/main/cuda/build-ptx.sh --refresh";

    private static String manifest() throws IOException {
        return Files.readString(KEPT.resolve("sources.sha256"), StandardCharsets.UTF_8);
    }

    private static String field(String manifest, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + " (.+)$").matcher(manifest);
        assertThat(m.find()).as("sources.sha256 has a '" + key + "' line").isTrue();
        return m.group(1).strip();
    }

    /** SHA-256 of a file's text with CR removed, as build-ptx.sh computes it ({@code tr -d '\r' | sha256sum}). */
    static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] lf = new byte[bytes.length];
        int n = 0;
        for (byte b : bytes) {
            if (b != '\r') {
                lf[n++] = b;
            }
        }
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(lf, 0, n);
        return HexFormat.of().formatHex(d.digest());
    }

    @Test
    void theKeptPtxWasMadeFromTheCudaSourcesAsTheyAreNow() throws Exception {
        Map<String, String> recorded = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^([0-9a-f]{64})  (\\S+)$").matcher(manifest());
        while (m.find()) {
            recorded.put(m.group(2), m.group(1));
        }
        Map<String, String> now = new TreeMap<>();
        try (Stream<Path> files = Files.list(CUDA_DIR)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
                now.put(f.getFileName().toString(), sha256(f));
            }
        }
        assertThat(now).as("SHA-256 of src/main/cuda/*.cu, *.cuh against ptx/sources.sha256: a kernel source changed "
                + "since the kept PTX was made; refresh it with: " + REFRESH).isEqualTo(recorded);
    }

    @Test
    void theKeptPtxWasMadeWithTheScriptsFlagsAndDeclaresItsIsa() throws IOException {
        String script = Files.readString(CUDA_DIR.resolve("build-ptx.sh"));
        Matcher flags = Pattern.compile("(?m)^flags=\\((.*)\\)$").matcher(script);
        Matcher isa = Pattern.compile("(?m)^isa=(\\S+)$").matcher(script);
        assertThat(flags.find() && isa.find()).as("build-ptx.sh defines flags=(...) and isa=...").isTrue();
        String manifest = manifest();
        assertThat(field(manifest, "flags")).as("nvcc flags of the kept PTX vs build-ptx.sh; refresh with: " + REFRESH)
                .isEqualTo(flags.group(1));
        assertThat(field(manifest, "isa")).as("declared PTX ISA of the kept PTX vs build-ptx.sh; refresh with: " + REFRESH)
                .isEqualTo(isa.group(1));
        for (String module : Kernels.modules()) {
            String ptx = Files.readString(KEPT.resolve(module + ".ptx"), StandardCharsets.US_ASCII);
            assertThat(DriverProbe.ptxIsaVersion(ptx)).as(module + ".ptx .version").isEqualTo(isa.group(1));
        }
    }
}
