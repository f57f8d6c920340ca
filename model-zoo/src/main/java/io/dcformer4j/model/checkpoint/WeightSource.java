package io.dcformer4j.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.util.SortedMap;

/**
 * A read-only set of named tensors from a checkpoint (safetensors, sharded safetensors, or a PyTorch
 * {@code .bin}), memory-mapped where the format allows. Segments returned by {@link #data} stay valid until
 * {@link #close()}.
 */
public interface WeightSource extends AutoCloseable {

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
