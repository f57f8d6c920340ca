package io.dcformer4j.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Kernels written out by a generator ({@code LinearLoops.java} by {@code tools/gen_linear_loops.py},
 * {@code RowBlockDot.java} by {@code tools/gen_row_block_dot.py}): each script is run into a temporary file, and
 * the test fails when the committed Java differs, so an edit of one without the other is noticed. Skipped, with
 * the reason printed, where python3 cannot be run.
 */
class GeneratedKernelsTest {
    private static final Path MODULE = Path.of(System.getProperty("user.dir"));

    @ParameterizedTest(name = "{1} matches {0}")
    @CsvSource({"gen_linear_loops.py, LinearLoops.java", "gen_row_block_dot.py, RowBlockDot.java"})
    void committedJavaMatchesItsGenerator(String script, String java, @TempDir Path tmp) throws Exception {
        Path generator = MODULE.resolve("tools").resolve(script);
        Path committedFile = MODULE.resolve("src/main/java/io/dcformer4j/backend/cpu").resolve(java);
        assumeTrue(Files.isRegularFile(generator), () -> skip("the generator " + generator + " is not here (tests run outside the module)"));
        Path generated = tmp.resolve(java);
        Process p;
        try {
            p = new ProcessBuilder("python3", generator.toString(), generated.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            assumeTrue(false, () -> skip("python3 cannot be started: " + e.getMessage()));
            return;
        }
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("the generator finishes").isTrue();
        assertThat(p.exitValue()).as("python3 %s exited with output:%n%s", generator, output).isZero();
        String expected = Files.readString(generated);
        String committed = Files.readString(committedFile);
        assertThat(committed).as("%s differs from what tools/%s generates: edit the script, then regenerate with "
                + "`python3 backend-cpu-vector/tools/%s` from the repository root and commit both", java, script, script)
                .isEqualTo(expected);
    }

    private static String skip(String reason) {
        String message = "GeneratedKernelsTest skipped: " + reason;
        System.out.println(message);
        return message;
    }
}
