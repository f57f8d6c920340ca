package io.dcformer4j.model.checkpoint;

import java.nio.file.Path;

/** A PyTorch {@code .bin} state_dict (zip archive of a pickle and raw storages). */
final class TorchCheckpoint {
    private TorchCheckpoint() {
    }

    static WeightSource open(Path file) {
        throw new CheckpointException(file + ": PyTorch .bin checkpoints are not supported yet");
    }
}
