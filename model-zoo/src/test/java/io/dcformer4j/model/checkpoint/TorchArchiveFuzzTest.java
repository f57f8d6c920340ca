package io.dcformer4j.model.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzz target for the zip reader ({@link ZipDirectory}) and the PyTorch archive on top of it
 * ({@link TorchCheckpoint}): the fuzzer's input is the whole {@code .bin} file.
 *
 * <p>Invariant, for every input: {@link ZipDirectory#read} either returns entries whose data spans lie inside
 * the input, or throws a {@link CheckpointException} naming the file; when the directory reads, the archive is
 * also opened as a checkpoint, which either yields tensors whose bytes are all readable at their declared
 * size or throws a {@link CheckpointException} naming the file (forbidden pickle globals included: nothing is
 * ever called). Any other exception, an input needing more than the fuzzing heap (1 GB) or more than the
 * per-input timeout (10 s) is a finding.
 */
class TorchArchiveFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void torchArchive(byte[] input) throws IOException {
        Path file = dir.resolve("pytorch_model.bin");
        Map<String, ZipDirectory.Entry> entries;
        try {
            entries = ZipDirectory.read(file, MemorySegment.ofArray(input));
        } catch (CheckpointException e) {
            FuzzChecks.namesTheFile(e, FuzzChecks.origin(file));
            return;
        }
        for (ZipDirectory.Entry e : entries.values()) {
            if (e.dataOffset() < 0 || e.compressedSize() < 0 || e.dataOffset() + e.compressedSize() > input.length) {
                throw new AssertionError("entry '" + e.name() + "' data [" + e.dataOffset() + ", +" + e.compressedSize()
                        + ") lies outside the " + input.length + "-byte input");
            }
        }
        Files.write(file, input);
        try (WeightSource w = TorchCheckpoint.open(file)) {
            FuzzChecks.readsEveryTensor(w);
        } catch (CheckpointException e) {
            FuzzChecks.namesTheFile(e, FuzzChecks.origin(file));
        }
    }
}
