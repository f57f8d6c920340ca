package io.dcformer4j.api;

/**
 * A dense row-major tensor owned by one {@link Backend}. Storage is opaque (heap, off-heap or device
 * memory); host access goes only through the explicit copies below, so a device backend never has to
 * expose its memory.
 *
 * <p>Closing a tensor releases its storage. Closing twice, or using a closed tensor, fails with an
 * {@link IllegalStateException} naming the tensor. A view ({@link Backend#view}, {@link Backend#slice})
 * shares its parent's storage and becomes unusable when the parent is closed.
 */
public interface Tensor extends AutoCloseable {

    /** The shape. */
    Shape shape();

    /** The storage type. */
    DType dtype();

    /** The backend that owns the storage; tensors of one backend cannot be passed to another. */
    Backend backend();

    /** A label used in error messages (a weight name, or a description of the buffer). */
    String label();

    /** Whether {@link #close()} has been called on this tensor or on the tensor it views. */
    boolean isClosed();

    /** Copies all elements to a new host array, widening BF16/F16 (I32 values are converted). */
    float[] toFloatArray();

    /** Copies an I32 tensor to a new host array. */
    int[] toIntArray();

    /**
     * Overwrites all elements from a host array of exactly {@code shape().numel()} values, rounding to
     * this tensor's dtype (round to nearest even for BF16 and F16).
     */
    void copyFrom(float[] values);

    /** Overwrites an I32 tensor from a host array of exactly {@code shape().numel()} values. */
    void copyFrom(int[] values);

    /** Releases the storage. */
    @Override
    void close();
}
