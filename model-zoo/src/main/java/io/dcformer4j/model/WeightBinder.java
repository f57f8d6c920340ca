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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns checkpoint tensors into backend tensors: large matrices reference the checkpoint's memory (no copy
 * on host backends), small vectors become F32 copies. Every tensor is checked for presence, a float dtype
 * and the expected shape (axes of size 1 may be absent or extra, as in {@code dd} stored [E, 4N]).
 * Projections ({@link #projection}) may also be Q8_0 in the checkpoint, or are quantized to Q8_0 at load
 * under {@link Quantization#Q8_0} into memory the binder owns ({@link #closeQuantized()}).
 */
final class WeightBinder {
    private final WeightSource source;
    private final Backend backend;
    private final Quantization quantization;
    private final List<Tensor> bound = new ArrayList<>();
    /** The Q8_0 copies made at load (null until the first); freed with the model. */
    private Arena quantized;

    WeightBinder(WeightSource source, Backend backend, Quantization quantization) {
        this.source = source;
        this.backend = backend;
        this.quantization = quantization;
        if (quantization == Quantization.Q8_0 && !backend.supportsWeights(DType.Q8_0)) {
            throw new IllegalArgumentException("the " + backend.name() + " backend does not support Q8_0 weights: "
                    + "load without quantization, or on a backend that has them (cpu)");
        }
    }

    /** Frees the quantized copies (after the tensors over them are closed). */
    void closeQuantized() {
        if (quantized != null) {
            quantized.close();
            quantized = null;
        }
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
            if (quantized == null) {
                quantized = Arena.ofShared();
            }
            MemorySegment q = Q8Quantizer.quantize(name, info.dtype(), expected, segment(info), quantized);
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
     * by a host backend.
     */
    Tensor mergedProjection(Tensor dw1, Tensor dd, String label) {
        int e = dd.shape().dim(0);
        int k4 = (int) (dw1.shape().numel() / e);
        int n4 = (int) (dd.shape().numel() / e);
        float[] w1 = dw1.toFloatArray();   // [E, 4K]
        float[] d = dd.toFloatArray();     // [E, 4N]
        float[] merged = new float[(k4 + n4) * e]; // [4K + 4N, E]
        for (int i = 0; i < e; i++) {
            for (int j = 0; j < k4; j++) {
                merged[j * e + i] = w1[i * k4 + j];
            }
            for (int j = 0; j < n4; j++) {
                merged[(k4 + j) * e + i] = d[i * n4 + j];
            }
        }
        DType dtype = dw1.dtype() == dd.dtype() ? dw1.dtype() : DType.F32;
        Tensor t = backend.fromFloats(dtype, Shape.of(k4 + n4, e), merged, label);
        bound.add(t);
        return t;
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
