package io.dcformer4j.model.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.SortedMap;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzz target for safetensors files: the whole file (length prefix, header JSON, data area)
 * is the fuzzer's input. The header checks run on the bytes in memory ({@link SafetensorsFile#readHeader});
 * an input they accept is also written to a file and opened with {@link SafetensorsFile#open}, mapping and
 * all (mapping every input would make the fuzzer a hundred times slower and add nothing the checks decide).
 *
 * <p>Invariant, for every input: either the header is accepted, every tensor lies inside the input with exactly
 * its declared size, and the file opens with every tensor's bytes readable; or a {@link CheckpointException}
 * whose message names the file. Any other exception or error (including {@code OutOfMemoryError} under the
 * fuzzing heap of 1 GB, and {@code StackOverflowError}) is a finding, and so is an input that runs longer than
 * the per-input timeout of the fuzzing profile (10 s).
 */
class SafetensorsFuzzTest {

    @TempDir
    static Path dir;

    @FuzzTest
    void safetensorsFile(byte[] input) throws IOException {
        Path file = dir.resolve("model.safetensors");
        SortedMap<String, TensorInfo> tensors;
        try {
            tensors = SafetensorsFile.readHeader(file, MemorySegment.ofArray(input), new LinkedHashMap<>());
        } catch (CheckpointException e) {
            FuzzChecks.namesTheFile(e, FuzzChecks.origin(file));
            return;
        }
        for (TensorInfo t : tensors.values()) {
            if (t.offset() < 8 || t.byteSize() < 0 || t.offset() + t.byteSize() > input.length
                    || t.byteSize() != t.dtype().bytesFor(t.shape().numel())) {
                throw new AssertionError("accepted tensor '" + t.name() + "' at [" + t.offset() + ", +" + t.byteSize()
                        + ") of a " + input.length + "-byte file as " + t.dtype() + t.shape());
            }
        }
        Files.write(file, input);
        try (WeightSource w = SafetensorsFile.open(file)) {
            if (!w.tensors().equals(tensors)) {
                throw new AssertionError("open() and readHeader() disagree");
            }
            FuzzChecks.readsEveryTensor(w);
        }
    }
}
