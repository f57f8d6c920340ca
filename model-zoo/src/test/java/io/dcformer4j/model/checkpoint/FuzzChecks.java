package io.dcformer4j.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/** What the checkpoint fuzz targets assert about an outcome, shared so every target words it the same way. */
final class FuzzChecks {
    private FuzzChecks() {
    }

    /** A refusal must name what it refused: the file (or pickle) it was reading. */
    static void namesTheFile(CheckpointException e, String origin) {
        if (e.getMessage() == null || !e.getMessage().contains(origin)) {
            throw new AssertionError("CheckpointException does not name " + origin + ": " + e.getMessage(), e);
        }
    }

    /**
     * Every tensor of an accepted checkpoint has exactly its declared bytes and they can all be read (a
     * slice outside the mapping would throw here), so a caller never meets a half-checked file.
     */
    static void readsEveryTensor(WeightSource w) {
        for (TensorInfo t : w.tensors().values()) {
            MemorySegment s = w.data(t.name());
            if (s.byteSize() != t.byteSize()) {
                throw new AssertionError("tensor '" + t.name() + "' declares " + t.byteSize() + " bytes, its data has "
                        + s.byteSize());
            }
            long sum = 0;
            for (long i = 0; i < s.byteSize(); i++) {
                sum += s.get(ValueLayout.JAVA_BYTE, i);
            }
            if (sum == Long.MIN_VALUE) {
                throw new AssertionError("unreachable; keeps the reads from being optimised away");
            }
        }
    }

    /** The origin string a file-based reader puts in its messages. */
    static String origin(Path file) {
        return file.toString();
    }
}
