package io.dcformer4j.model;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns checkpoint tensors into backend tensors: large matrices reference the checkpoint's memory (no copy
 * on host backends), small vectors become F32 copies. Every tensor is checked for presence, a float dtype
 * and the expected shape (axes of size 1 may be absent or extra, as in {@code dd} stored [E, 4N]).
 */
final class WeightBinder {
    private final WeightSource source;
    private final Backend backend;
    private final List<Tensor> bound = new ArrayList<>();

    WeightBinder(WeightSource source, Backend backend) {
        this.source = source;
        this.backend = backend;
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
        TensorInfo info = source.tensors().get(name);
        if (info == null) {
            throw new IllegalArgumentException("checkpoint " + source.origin() + " has no tensor '" + name
                    + "' (expected shape " + expected + ")");
        }
        if (!sameIgnoringUnitAxes(info.shape(), expected)) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + source.origin() + " has shape "
                    + info.shape() + ", expected " + expected);
        }
        if (!info.dtype().isFloating()) {
            throw new IllegalArgumentException("tensor '" + name + "' in " + source.origin() + " has dtype "
                    + info.dtype() + ", expected F32, BF16 or F16");
        }
        return info;
    }

    private MemorySegment segment(TensorInfo info) {
        MemorySegment seg = source.data(info.name());
        long want = info.shape().numel() * info.dtype().byteSize();
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
