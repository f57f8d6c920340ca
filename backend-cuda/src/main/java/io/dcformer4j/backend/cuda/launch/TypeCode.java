package io.dcformer4j.backend.cuda.launch;

import io.dcformer4j.api.DType;

/** The storage-type codes the kernels take ({@code DT_F32}, {@code DT_BF16}, {@code DT_F16} in common.cuh). */
public final class TypeCode {
    private TypeCode() {
    }

    /** The code of a float storage type. */
    public static int of(DType dtype) {
        return switch (dtype) {
            case F32 -> 0;
            case BF16 -> 1;
            case F16 -> 2;
            case I32, Q8_0 -> throw new IllegalArgumentException(dtype + " is not a float storage type of this backend");
        };
    }
}
