package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.api.TensorChecks;

/**
 * A tensor in device memory: a window of a {@link DeviceBuffer} (the whole buffer for an owning tensor, a
 * part of it for a view or slice). Host access goes through explicit copies.
 */
final class CudaTensor implements Tensor {
    private final CudaBackend backend;
    final DeviceBuffer buffer;
    final long byteOffset;
    private final Shape shape;
    private final DType dtype;
    private final String label;
    private final boolean owner;
    private boolean closed;

    CudaTensor(CudaBackend backend, DeviceBuffer buffer, long byteOffset, Shape shape, DType dtype, String label,
               boolean owner) {
        this.backend = backend;
        this.buffer = buffer;
        this.byteOffset = byteOffset;
        this.shape = shape;
        this.dtype = dtype;
        this.label = label == null ? "(unnamed)" : label;
        this.owner = owner;
    }

    /** The device address of element 0. */
    long address() {
        return buffer.address + byteOffset;
    }

    /** Bytes covered by this tensor. */
    long byteSize() {
        return dtype.bytesFor(shape.numel());
    }

    boolean owner() {
        return owner;
    }

    @Override
    public Shape shape() {
        return shape;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public boolean isClosed() {
        return closed || buffer.isFreed();
    }

    /** A view that was not closed itself but whose parent was (not an owner freed with its backend). */
    private boolean closedThroughParent() {
        return !owner && !closed && buffer.isFreed();
    }

    void checkOpen(String op) {
        if (isClosed()) { // checked before every op on every argument: the message is built only on failure
            TensorChecks.requireOpen(this, op, closedThroughParent());
        }
    }

    @Override
    public float[] toFloatArray() {
        checkOpen("toFloatArray");
        return backend.download(this);
    }

    @Override
    public int[] toIntArray() {
        checkOpen("toIntArray");
        TensorChecks.requireI32(this, "toIntArray");
        return backend.downloadInts(this);
    }

    @Override
    public void copyFrom(float[] values) {
        checkOpen("copyFrom");
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireNotI32(this, "copyFrom(float[])");
        backend.upload(this, HostCodec.encode(dtype, values));
    }

    @Override
    public void copyFrom(int[] values) {
        checkOpen("copyFrom");
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireI32(this, "copyFrom(int[])");
        backend.upload(this, HostCodec.encodeInts(values));
    }

    @Override
    public void close() {
        if (closed || buffer.isFreed()) {
            throw TensorChecks.closedTwice(this, closedThroughParent());
        }
        closed = true;
        if (owner) {
            backend.release(buffer);
            backend.countClosed();
        }
    }

    @Override
    public String toString() {
        return "CudaTensor[" + label + " " + dtype + " " + shape + "]";
    }
}
