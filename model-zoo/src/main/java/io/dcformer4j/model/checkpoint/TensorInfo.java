package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.nio.file.Path;

/**
 * Where one named tensor of a checkpoint lives.
 *
 * @param name     the state_dict name (for example {@code layers.0.attention.wqkv.weight})
 * @param dtype    storage type
 * @param shape    shape as stored
 * @param file     the file holding it
 * @param offset   byte offset of its data in that file (or in the archive entry for pickled checkpoints)
 * @param byteSize number of data bytes, {@code shape.numel() * dtype.byteSize()}
 */
public record TensorInfo(String name, DType dtype, Shape shape, Path file, long offset, long byteSize) {
}
