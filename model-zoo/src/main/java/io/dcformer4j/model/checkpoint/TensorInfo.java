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
 * @param offset   absolute byte offset of its data in that file (for a PyTorch archive: in the archive file), or
 *                 {@code -1} when the tensor was materialised in memory (a strided view gathered, an I64 tensor
 *                 narrowed, or a {@code wqkv} fused by {@link CheckpointNames#normalize})
 * @param byteSize number of data bytes, {@code shape.numel() * dtype.byteSize()}
 */
public record TensorInfo(String name, DType dtype, Shape shape, Path file, long offset, long byteSize) {
}
