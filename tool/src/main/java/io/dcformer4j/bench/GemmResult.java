package io.dcformer4j.bench;

import io.dcformer4j.api.DType;

/**
 * A measured matrix-product rate.
 *
 * @param shape   the product
 * @param weights weight storage type ({@code F32} for OpenBLAS)
 * @param gflops  median GFLOP/s
 */
public record GemmResult(GemmShape shape, DType weights, double gflops) {
    /** Seconds of one product at this rate. */
    public double seconds() {
        return shape.flops() / (gflops * 1e9);
    }
}
