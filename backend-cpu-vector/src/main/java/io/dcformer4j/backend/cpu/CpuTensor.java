package io.dcformer4j.backend.cpu;

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
 * A dense row-major tensor of the CPU backend: a byte range of a {@link Storage}. Views and slices are
 * further ranges of the same storage; they are unusable once the storage is closed.
 */
final class CpuTensor implements Tensor {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final CpuBackend backend;
    final Storage storage;
    /** Byte offset of element 0 within the storage segment. */
    final long offset;
    private final Shape shape;
    private final DType dtype;
    private final String label;
    private final boolean view;
    private volatile boolean closed;

    CpuTensor(CpuBackend backend, Storage storage, long offset, Shape shape, DType dtype, String label, boolean view) {
        this.backend = backend;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.dtype = dtype;
        this.label = label;
        this.view = view;
    }

    /** The storage segment; element i is at {@code offset + dtype.bytesFor(i)} (i a whole block for Q8_0). */
    MemorySegment seg() {
        return storage.segment;
    }

    /** Fails with the tensor's label when it (or the tensor it views) is closed. */
    void checkOpen(String op) {
        if (isClosed()) { // checked before every op on every argument: the message is built only on failure
            TensorChecks.requireOpen(this, op, closedThroughParent());
        }
    }

    /** A view that was not closed itself but whose parent's storage was (not an owner freed with its backend). */
    private boolean closedThroughParent() {
        return view && !closed && storage.isClosed();
    }

    /** Elements [elem, elem + n) widened into dst[0..n). */
    void readFloats(long elem, float[] dst, int n) {
        if (dtype == DType.Q8_0) {
            if (elem % Q8Loops.BLOCK == 0 && n % Q8Loops.BLOCK == 0) {
                Q8Loops.widen(storage.segment, offset + dtype.bytesFor(elem), dst, n);
            } else {
                Q8_0Format.dequantize(storage.segment, offset, elem, dst, 0, n);
            }
            return;
        }
        long at = offset + dtype.bytesFor(elem);
        switch (dtype) {
            case F32 -> LinearLoops.widenF32(storage.segment, at, dst, n);
            case BF16 -> LinearLoops.widenBF16(storage.segment, at, dst, n);
            case F16 -> LinearLoops.widenF16(storage.segment, at, dst, n);
            case I32 -> {
                for (int i = 0; i < n; i++) {
                    dst[i] = storage.segment.get(I32, at + 4L * i);
                }
            }
        }
    }

    /** All elements widened into a new array (small parameter tensors: gains, biases). */
    float[] widened() {
        float[] a = new float[Math.toIntExact(shape.numel())];
        readFloats(0, a, a.length);
        return a;
    }

    /** Element i widened to float. */
    float getFloat(long i) {
        MemorySegment s = storage.segment;
        return switch (dtype) {
            case F32 -> s.get(F32, offset + 4 * i);
            case BF16 -> Numerics.bf16ToFloat(s.get(I16, offset + 2 * i));
            case F16 -> Float.float16ToFloat(s.get(I16, offset + 2 * i));
            case I32 -> s.get(I32, offset + 4 * i);
            case Q8_0 -> Q8_0Format.get(s, offset, i);
        };
    }

    /** Stores element i, rounding to this tensor's dtype. */
    void setFloat(long i, float v) {
        MemorySegment s = storage.segment;
        switch (dtype) {
            case F32 -> s.set(F32, offset + 4 * i, v);
            case BF16 -> s.set(I16, offset + 2 * i, Numerics.floatToBf16(v));
            case F16 -> s.set(I16, offset + 2 * i, Float.floatToFloat16(v));
            case I32 -> s.set(I32, offset + 4 * i, (int) v);
            case Q8_0 -> throw new IllegalStateException("Q8_0 tensor '" + label + "' is written a block at a time");
        }
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
    public CpuBackend backend() {
        return backend;
    }

    @Override
    public String label() {
        return label;
    }

    @Override
    public boolean isClosed() {
        return closed || storage.isClosed();
    }

    @Override
    public float[] toFloatArray() {
        checkOpen("toFloatArray");
        long n = shape.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toFloatArray: tensor '" + label + "' " + shape + " is too large for an array");
        }
        float[] out = new float[(int) n];
        if (dtype == DType.F32) {
            MemorySegment.copy(storage.segment, F32, offset, out, 0, out.length);
        } else if (dtype == DType.BF16 || dtype == DType.F16) {
            // one bulk copy of the 16-bit values, then widening in a plain loop: a loader reads whole weights this way
            short[] bits = new short[out.length];
            MemorySegment.copy(storage.segment, I16, offset, bits, 0, bits.length);
            for (int i = 0; i < out.length; i++) {
                out[i] = dtype == DType.BF16 ? Numerics.bf16ToFloat(bits[i]) : Float.float16ToFloat(bits[i]);
            }
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = getFloat(i);
            }
        }
        return out;
    }

    @Override
    public int[] toIntArray() {
        checkOpen("toIntArray");
        TensorChecks.requireI32(this, "toIntArray");
        int[] out = new int[Math.toIntExact(shape.numel())];
        MemorySegment.copy(storage.segment, I32, offset, out, 0, out.length);
        return out;
    }

    @Override
    public void copyFrom(float[] values) {
        checkOpen("copyFrom");
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireNotI32(this, "copyFrom(float[])");
        if (dtype == DType.F32) {
            MemorySegment.copy(values, 0, storage.segment, F32, offset, values.length);
        } else if (dtype == DType.Q8_0) {
            Q8_0Format.quantize(values, 0, values.length, storage.segment, offset);
        } else {
            for (int i = 0; i < values.length; i++) {
                setFloat(i, values[i]);
            }
        }
    }

    @Override
    public void copyFrom(int[] values) {
        checkOpen("copyFrom");
        TensorChecks.requireCount(this, "copyFrom", values.length);
        TensorChecks.requireI32(this, "copyFrom(int[])");
        MemorySegment.copy(values, 0, storage.segment, I32, offset, values.length);
    }

    @Override
    public void close() {
        if (closed || storage.isClosed()) {
            throw TensorChecks.closedTwice(this, closedThroughParent());
        }
        closed = true;
        if (!view) {
            backend.released(this);
            storage.close();
        }
    }

    @Override
    public String toString() {
        return "CpuTensor[" + label + " " + dtype + shape + (isClosed() ? " closed" : "") + "]";
    }
}
