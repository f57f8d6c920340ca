package io.dcformer4j.model.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Picks the reader for a checkpoint directory or file (the logic behind {@link WeightSource#open}). */
final class CheckpointOpener {

    /** File names looked for in a checkpoint directory, in order of preference. */
    static final List<String> DIRECTORY_CANDIDATES = List.of("model.safetensors", "model.safetensors.index.json",
            "pytorch_model.bin", "pytorch_model.bin.index.json");

    private CheckpointOpener() {
    }

    static WeightSource open(Path dirOrFile) {
        if (Files.isDirectory(dirOrFile)) {
            for (String candidate : DIRECTORY_CANDIDATES) {
                Path p = dirOrFile.resolve(candidate);
                if (Files.isRegularFile(p)) {
                    return openFile(p);
                }
            }
            throw new CheckpointException(dirOrFile + ": no checkpoint found (looked for " + DIRECTORY_CANDIDATES + ")");
        }
        if (!Files.isRegularFile(dirOrFile)) {
            throw new CheckpointException(dirOrFile + ": no such checkpoint file or directory");
        }
        return openFile(dirOrFile);
    }

    /** Opens one file: an index, a safetensors file or a PyTorch zip archive (sniffed when the name says nothing). */
    static WeightSource openFile(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith(".index.json")) {
            return ShardedWeightSource.open(file);
        }
        if (name.endsWith(".safetensors")) {
            return SafetensorsFile.open(file);
        }
        if (name.endsWith(".bin") || name.endsWith(".pt") || name.endsWith(".pth") || isZip(file)) {
            return TorchCheckpoint.open(file);
        }
        return SafetensorsFile.open(file);
    }

    private static boolean isZip(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read checkpoint: " + e, e);
        }
    }
}
