package io.dcformer4j.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SortedMap;

/**
 * A read-only set of named tensors from a checkpoint (safetensors, sharded safetensors, or a PyTorch
 * {@code .bin}), memory-mapped where the format allows. Segments returned by {@link #data} stay valid until
 * {@link #close()}.
 */
public interface WeightSource extends AutoCloseable {

    /**
     * Opens a checkpoint. A directory is searched for {@code model.safetensors},
     * {@code model.safetensors.index.json}, {@code pytorch_model.bin} and {@code pytorch_model.bin.index.json},
     * in that order; a file is read by its name ({@code *.index.json}, {@code *.safetensors}, {@code *.bin},
     * {@code *.pt}, {@code *.pth}) or, failing that, by its first bytes (a zip archive is a PyTorch file).
     * Every header is validated before anything is returned.
     *
     * @throws CheckpointException naming the file, the tensor and the offending value when a file is missing,
     *                             malformed, inconsistent or uses something this reader does not support
     */
    static WeightSource open(Path dirOrFile) {
        return CheckpointOpener.open(dirOrFile);
    }

    /** Every tensor, by name. */
    SortedMap<String, TensorInfo> tensors();

    /** Whether a tensor of that name exists. */
    default boolean contains(String name) {
        return tensors().containsKey(name);
    }

    /**
     * The raw little-endian bytes of a tensor.
     *
     * @throws IllegalArgumentException naming the tensor and the checkpoint when it does not exist
     */
    MemorySegment data(String name);

    /** A short description of where the tensors come from (the path), for error messages. */
    String origin();

    /** Unmaps files and releases memory. */
    @Override
    void close();
}
