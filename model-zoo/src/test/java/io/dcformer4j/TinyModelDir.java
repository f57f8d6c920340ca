package io.dcformer4j;

import io.dcformer4j.tokenizer.TinyTokenizers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

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
}
