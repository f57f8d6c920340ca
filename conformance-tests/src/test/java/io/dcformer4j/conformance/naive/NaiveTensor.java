package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.api.TensorChecks;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A heap tensor of {@link NaiveBackend}: F32 in a float[], BF16/F16 as raw 16-bit patterns in a short[],
 * I32 in an int[], Q8_0 as its blocks in a byte[] (read through {@link Q8_0Format}). Views and slices share the {@link Storage} with an element offset. Weight tables too big
 * for the heap stay in the caller's segment (read-only, read element by element).
 */
final class NaiveTensor implements Tensor {
    /** Storage shared by a tensor and its views. */
    static final class Storage {
        final float[] floats;
        final short[] halves;
        final int[] ints;
        final byte[] blocks;
        /** Little-endian weights referenced in place (huge tables), or null. */
        final MemorySegment external;
        final long bytes;
        boolean closed;

        Storage(DType dtype, int numel) {
            floats = dtype == DType.F32 ? new float[numel] : null;
            halves = dtype == DType.BF16 || dtype == DType.F16 ? new short[numel] : null;
            ints = dtype == DType.I32 ? new int[numel] : null;
            blocks = dtype == DType.Q8_0 ? new byte[Math.toIntExact(dtype.bytesFor(numel))] : null;
            external = null;
            bytes = dtype.bytesFor(numel);
        }

        /** Weights left in the caller's segment; not counted as live bytes (the backend does not own them). */
        Storage(MemorySegment external) {
            floats = null;
            halves = null;
            ints = null;
            blocks = null;
            this.external = external;
            bytes = 0;
        }
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final NaiveBackend owner;
    private final DType dtype;
    private final Shape shape;
    private final String label;
    final Storage storage;
    final int offset;
    final boolean view;

    NaiveTensor(NaiveBackend owner, DType dtype, Shape shape, String label, Storage storage, int offset, boolean view) {
        this.owner = owner;
        this.dtype = dtype;
        this.shape = shape;
        this.label = label;
        this.storage = storage;
        this.offset = offset;
        this.view = view;
    }

    NaiveBackend owner() {
        return owner;
    }

    int numel() {
        return (int) shape.numel();
    }

    /** Element i widened to float. */
    float get(int i) {
        if (storage.external != null) {
            long index = (long) offset + i;
            return switch (dtype) {
                case F32 -> storage.external.getAtIndex(F32_LE, index);
                case BF16 -> owner.bf16ToFloat(storage.external.getAtIndex(I16_LE, index));
                case F16 -> Numerics.f16ToFloat(storage.external.getAtIndex(I16_LE, index));
                case I32 -> throw new IllegalStateException("I32 weights are not referenced in place");
                case Q8_0 -> Q8_0Format.get(storage.external, 0, index);
            };
        }
        return switch (dtype) {
            case F32 -> storage.floats[offset + i];
            case BF16 -> owner.bf16ToFloat(storage.halves[offset + i]);
            case F16 -> Numerics.f16ToFloat(storage.halves[offset + i]);
            case I32 -> storage.ints[offset + i];
            case Q8_0 -> Q8_0Format.get(MemorySegment.ofArray(storage.blocks), 0, (long) offset + i);
        };
    }

    /** Element i rounded to this tensor's dtype. */
    void set(int i, float value) {
        if (storage.external != null) {
            throw new IllegalStateException("tensor '" + label + "' references the caller's weights and is read-only");
        }
        switch (dtype) {
            case F32 -> storage.floats[offset + i] = value;
            case BF16 -> storage.halves[offset + i] = owner.floatToBf16(value);
            case F16 -> storage.halves[offset + i] = Numerics.floatToF16(value);
            case I32 -> storage.ints[offset + i] = (int) value;
            case Q8_0 -> throw new IllegalStateException("Q8_0 tensor '" + label + "' is written a block at a time");
        }
    }

    void ensureOpen(String op) {
        TensorChecks.requireOpen(this, op, false);
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
        return owner;
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public boolean isClosed() {
        return storage.closed;
    }

    @Override
    public float[] toFloatArray() {
        TensorChecks.requireOpen(this, "toFloatArray", false);
        float[] out = new float[numel()]; // same shape as this
        for (int i = 0; i < out.length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    @Override
    public int[] toIntArray() {
        TensorChecks.requireOpen(this, "toIntArray", false);
        TensorChecks.requireI32(this, "toIntArray");
        int[] out = new int[numel()]; // same shape as this
        System.arraycopy(storage.ints, offset, out, 0, out.length);
        return out;
    }

    @Override
    public void copyFrom(float[] values) {
        TensorChecks.requireOpen(this, "copyFrom", false);
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireNotI32(this, "copyFrom(float[])");
        if (dtype == DType.Q8_0) {
            Q8_0Format.quantize(values, 0, values.length, MemorySegment.ofArray(storage.blocks), dtype.bytesFor(offset));
            return;
        }
        for (int i = 0; i < values.length; i++) {
            set(i, values[i]);
        }
    }

    @Override
    public void copyFrom(int[] values) {
        TensorChecks.requireOpen(this, "copyFrom", false);
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireI32(this, "copyFrom(int[])");
        System.arraycopy(values, 0, storage.ints, offset, values.length);
    }

    @Override
    public void close() {
        if (view) {
            throw new IllegalStateException("tensor '" + label + "' is a view; close its parent");
        }
        if (storage.closed) {
            throw TensorChecks.closedTwice(this, false);
        }
        storage.closed = true;
        owner.released(storage.bytes);
    }
}
