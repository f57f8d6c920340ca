package io.dcformer4j;

import io.dcformer4j.tokenizer.TinyTokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import io.dcformer4j.model.checkpoint.WeightSource;

/**
 * A model directory for tests: the 4-layer golden tiny DCFormer (vocabulary 97, random weights from the
 * reference) with the 97-token ASCII tokenizer. Its text is meaningless but deterministic.
 */
public final class TinyModelDir {
    private TinyModelDir() {
    }

    /** Writes the directory under {@code parent} and returns it. */
    public static Path create(Path parent) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("tiny"));
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            try (InputStream in = TinyModelDir.class.getResourceAsStream("/golden/dcformer_tiny/" + f)) {
                if (in == null) {
                    throw new IllegalStateException("test resource /golden/dcformer_tiny/" + f + " is missing");
                }
                Files.copy(in, dir.resolve(f));
            }
        }
        TinyTokenizers.write(TinyTokenizers.ascii97(), dir.resolve("tokenizer.json"));
        return dir;
    }

    /**
     * The same model in {@code parent/name} with element 0 of the F32 tensor {@code tensor} set to
     * {@code value} (NaN or an infinity, for the tests of non-finite weights).
     */
    public static Path poisoned(Path parent, String name, String tensor, float value) throws IOException {
        Path dir = Files.createDirectories(parent.resolve(name));
        Path tiny = create(Files.createTempDirectory(parent, "clean"));
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
            Files.copy(tiny.resolve(f), dir.resolve(f));
        }
        long offset;
        try (WeightSource w = WeightSource.open(dir)) {
            offset = w.tensors().get(tensor).offset();
        }
        try (FileChannel ch = FileChannel.open(dir.resolve("model.safetensors"), StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value), offset);
        }
        return dir;
    }
}
