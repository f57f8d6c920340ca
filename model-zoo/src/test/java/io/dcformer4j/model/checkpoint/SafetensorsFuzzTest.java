package io.dcformer4j.model.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzz target for {@link SafetensorsFile#open}: the whole file (length prefix, header JSON,
 * data area) is the fuzzer's input.
 *
 * <p>Invariant, for every input: either the file opens and every tensor's bytes are exactly its declared size
 * and readable inside the mapping, or opening throws a {@link CheckpointException} whose message names the
 * file. Any other exception or error (including {@code OutOfMemoryError} under the fuzzing heap of
 * {@code -Xmx1g}, and {@code StackOverflowError}) is a finding, and so is an input that runs longer than the
 * per-input timeout of the fuzzing profile (10 s). Committed inputs are under
 * {@code SafetensorsFuzzTestInputs/safetensorsFile/}; {@code tools/fuzz.sh} fuzzes this target.
 */
class SafetensorsFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void safetensorsFile(byte[] input) throws IOException {
        Path file = Files.write(dir.resolve("model.safetensors"), input);
        try (WeightSource w = SafetensorsFile.open(file)) {
            FuzzChecks.readsEveryTensor(w);
        } catch (CheckpointException e) {
            FuzzChecks.namesTheFile(e, FuzzChecks.origin(file));
        }
    }
}
