package io.dcformer4j.model;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.model.checkpoint.Q8Quantizer;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns checkpoint tensors into backend tensors: large matrices reference the checkpoint's memory (no copy
 * on host backends), small vectors become F32 copies. Every tensor is checked for presence, a float dtype
 * and the expected shape (axes of size 1 may be absent or extra, as in {@code dd} stored [E, 4N]).
 * Projections ({@link #projection}) may also be Q8_0 in the checkpoint, or are quantized to Q8_0 at load
 * under {@link Quantization#Q8_0} into memory the binder owns ({@link #closeCopies()}).
 */
final class WeightBinder {
    private final WeightSource source;
    private final Backend backend;
    private final Quantization quantization;
    private static final ValueLayout.OfShort BITS16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final List<Tensor> bound = new ArrayList<>();
    /** {@link #mergedProjection}'s buffers, reused from layer to layer. */
    private short[] transposeIn;
    private short[] transposeOut;
    /** The copies made at load (Q8_0 quantizations, dw_m), null until the first; freed with the model. */
    private Arena copies;

    WeightBinder(WeightSource source, Backend backend, Quantization quantization) {
        this.source = source;
        this.backend = backend;
        this.quantization = quantization;
        if (quantization == Quantization.Q8_0 && !backend.supportsWeights(DType.Q8_0)) {
            throw new IllegalArgumentException("the " + backend.name() + " backend does not support Q8_0 weights: "
                    + "load without quantization, or on a backend that has them (cpu)");
        }
    }

    /** Frees the copies made at load (after the tensors over them are closed). */
    void closeCopies() {
        if (copies != null) {
            copies.close();
            copies = null;
        }
    }

    private Arena copies() {
        if (copies == null) {
            copies = Arena.ofShared();
        }
        return copies;
    }

    /** Every tensor bound so far, in binding order, for closing. */
    List<Tensor> bound() {
        return bound;
    }

    boolean has(String name) {
        return source.contains(name);
    }

    /** The stored shape of a tensor that must exist. */
    Shape shapeOf(String name) {
        return info(name).shape();
    }

    /**
     * A projection weight [out, in] for {@code linear}: Q8_0 when the checkpoint has it so, quantized to Q8_0
     * here under {@link Quantization#Q8_0} when {@link Quantization#isQuantizable} says so, otherwise as
     * {@link #matrix}.
     */
    Tensor projection(String name, Shape expected) {
        TensorInfo info = checked(name, expected, true);
        Tensor t;
        if (info.dtype() == DType.Q8_0) {
            t = backend.weights(DType.Q8_0, expected, segment(info), name);
        } else if (quantization == Quantization.Q8_0 && Quantization.isQuantizable(name, expected)) {
            MemorySegment q = Q8Quantizer.quantize(name, info.dtype(), expected, segment(info), copies());
            t = backend.weights(DType.Q8_0, expected, q, name);
        } else {
            t = backend.weights(info.dtype(), expected, segment(info), name);
        }
        bound.add(t);
        return t;
    }

    /** A weight over the checkpoint's bytes, viewed with the canonical shape {@code expected}. */
    Tensor matrix(String name, Shape expected) {
        TensorInfo info = checked(name, expected);
        Tensor t = backend.weights(info.dtype(), expected, segment(info), name);
        bound.add(t);
        return t;
    }

    /** A small weight as an F32 tensor of shape {@code expected}. */
    Tensor vector(String name, Shape expected) {
        TensorInfo info = checked(name, expected);
        Tensor raw = backend.weights(info.dtype(), expected, segment(info), name);
        if (info.dtype() == DType.F32) {
            bound.add(raw);
            return raw;
        }
        Tensor f32 = backend.allocate(DType.F32, expected, name);
        backend.copy(raw, f32);
        raw.close();
        bound.add(f32);
        return f32;
    }

    /**
     * dw_mᵀ [4K + 4N, E] from bound dw1 [E, 1, 4, K] and dd [E, 1, 4N] (spec §2.2's merged form, transposed to the
     * [out, in] layout of {@code linear}): a copy in their dtype (F32 where they differ), owned with the bound
     * tensors. Costs the bytes of dw1 and dd once more; the checkpoint's own pages of them are then not read
     * by a host backend. Where both are stored in the same 16-bit dtype, the stored bits are transposed as they
     * are (one pass, no rounding), since a loader runs this once per layer before the JIT has warmed up.
     */
    Tensor mergedProjection(Tensor dw1, Tensor dd, String label) {
        int e = dd.shape().dim(0);
        int k4 = (int) (dw1.shape().numel() / e);
        int n4 = (int) (dd.shape().numel() / e);
        Shape shape = Shape.of(k4 + n4, e);
        TensorInfo w1Info = info(dw1.label());
        TensorInfo ddInfo = info(dd.label());
        Tensor t;
        if (w1Info.dtype() == ddInfo.dtype() && w1Info.dtype().isFloating() && w1Info.dtype().byteSize() == 2) {
            // the buffers are kept for the next layer (same sizes): fresh pages cost a fault each on first touch
            int stored = (k4 + n4) * e;
            if (transposeIn == null || transposeIn.length != stored) {
                transposeIn = new short[stored];    // dw1 [E, 4K] then dd [E, 4N]
                transposeOut = new short[stored];   // [4K + 4N, E]
            }
            MemorySegment.copy(segment(w1Info), BITS16, 0, transposeIn, 0, e * k4);
            MemorySegment.copy(segment(ddInfo), BITS16, 0, transposeIn, e * k4, e * n4);
            transposeInto(transposeIn, 0, e, k4, transposeOut, 0);
            transposeInto(transposeIn, e * k4, e, n4, transposeOut, k4 * e);
            MemorySegment copy = copies().allocate(2L * stored, 2);
            MemorySegment.copy(transposeOut, 0, copy, BITS16, 0, stored);
            t = backend.weights(w1Info.dtype(), shape, copy, label);
        } else {
            float[] w1 = dw1.toFloatArray();
            float[] d = dd.toFloatArray();
            float[] merged = new float[(k4 + n4) * e];
            for (int i = 0; i < e; i++) {
                for (int j = 0; j < k4; j++) {
                    merged[j * e + i] = w1[i * k4 + j];
                }
                for (int j = 0; j < n4; j++) {
                    merged[(k4 + j) * e + i] = d[i * n4 + j];
                }
            }
            t = backend.fromFloats(dw1.dtype() == dd.dtype() ? dw1.dtype() : DType.F32, shape, merged, label);
        }
        bound.add(t);
        return t;
    }

    /** src[from ..) [rows, cols] transposed into dst[at ..) as [cols, rows], in tiles so that both sides stay in cache. */
    private static void transposeInto(short[] src, int from, int rows, int cols, short[] dst, int at) {
        final int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int r = r0; r < r1; r++) {
                    for (int c = c0; c < c1; c++) {
                        dst[at + c * rows + r] = src[from + r * cols + c];
                    }
                }
            }
        }
    }

    /** Rows {@code [start, end)} of a bound tensor, sharing its storage (closed with it). */
    Tensor slice(Tensor t, int start, int end) {
        return backend.slice(t, start, end);
    }

    private TensorInfo info(String name) {
        TensorInfo info = source.tensors().get(name);
        if (info == null) {
            throw new IllegalArgumentException("checkpoint " + source.origin() + " has no tensor '" + name + "'");
        }
        return info;
    }

    private TensorInfo checked(String name, Shape expected) {
        return checked(name, expected, false);
    }

    private TensorInfo checked(String name, Shape expected, boolean q8Allowed) {
        TensorInfo info = source.tensors().get(name);
        if (info == null) {
            throw new IllegalArgumentException("checkpoint " + source.origin() + " has no tensor '" + name
                    + "' (expected shape " + expected + ")");
        }
        if (!sameIgnoringUnitAxes(info.shape(), expected)) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + source.origin() + " has shape "
                    + info.shape() + ", expected " + expected);
        }
        if (info.dtype() == DType.Q8_0 && !q8Allowed) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + source.origin() + " is Q8_0, which only"
                    + " the projection weights may be (wqkv, wo, w1, w2, w3, output); expected F32, BF16 or F16");
        }
        if (!info.dtype().isFloating() && info.dtype() != DType.Q8_0) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + source.origin() + " has dtype "
                    + info.dtype() + ", expected F32, BF16 or F16");
        }
        if (info.dtype() == DType.Q8_0 && !info.shape().equals(expected)) {
            throw new IllegalArgumentException("Q8_0 tensor '" + name + "' in " + source.origin() + " has shape "
                    + info.shape() + ", expected exactly " + expected);
        }
        return info;
    }

    private MemorySegment segment(TensorInfo info) {
        MemorySegment seg = source.data(info.name());
        long want = info.dtype().bytesFor(info.shape().numel());
        if (seg.byteSize() != want) {
            throw new IllegalArgumentException("tensor '" + info.name() + "' in " + source.origin() + " has "
                    + seg.byteSize() + " bytes of data, expected " + want + " for " + info.dtype() + " " + info.shape());
        }
        return seg;
    }

    static boolean sameIgnoringUnitAxes(Shape a, Shape b) {
        return Arrays.equals(Arrays.stream(a.dims()).filter(d -> d != 1).toArray(),
                Arrays.stream(b.dims()).filter(d -> d != 1).toArray());
    }
}
