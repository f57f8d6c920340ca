package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Flips, truncates and overwrites bytes of real checkpoint files at random (fixed seeds) and checks that
 * opening either succeeds with readable tensors or fails with a {@link CheckpointException} — never another
 * exception, an error, or a crash.
 */
class CorruptionFuzzTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"checkpoints/single/pytorch_model.bin", "checkpoints/extras_protocol4.bin",
            "checkpoints/expected_extras.safetensors", "golden/dcformer_tiny/config.json"})
    void corruptedFilesFailCleanly(String resource) throws IOException {
        byte[] original = Files.readAllBytes(TestResources.path(resource));
        String name = Path.of(resource).getFileName().toString();
        Random random = new Random(name.hashCode());
        int opened = 0;
        for (int round = 0; round < 200; round++) {
            byte[] b = mutate(original, random);
            Path f = Files.write(dir.resolve(round + "-" + name), b);
            try (WeightSource w = WeightSource.open(f)) {
                for (String t : w.tensors().keySet()) {
                    assertThat(w.data(t).toArray(ValueLayout.JAVA_BYTE)).hasSize((int) w.tensors().get(t).byteSize());
                }
                opened++;
            } catch (CheckpointException expected) {
                assertThat(expected.getMessage()).contains(f.toString());
            }
            Files.delete(f);
        }
        if (name.endsWith(".json")) {
            assertThat(opened).as("a JSON file is no checkpoint, however mutated").isZero();
        } else {
            assertThat(opened).as("some mutations leave the file readable").isPositive();
        }
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] b = original.clone();
        switch (random.nextInt(4)) {
            case 0 -> b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
            case 1 -> {
                for (int i = 0; i < 1 + random.nextInt(8); i++) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            case 2 -> {
                int at = random.nextInt(b.length);
                for (int i = at; i < Math.min(b.length, at + 1 + random.nextInt(16)); i++) {
                    b[i] = (byte) random.nextInt(256);
                }
            }
            default -> b[random.nextInt(Math.min(b.length, 600))] = (byte) random.nextInt(256);
        }
        return b;
    }
}
