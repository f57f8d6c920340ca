package io.dcformer4j.bench;

/**
 * One prefill matrix product {@code out[M, N] = x[M, K] · w[N, K]ᵀ} (nn.Linear layout), costing 2·M·N·K FLOPs.
 *
 * @param m rows of activations (tokens)
 * @param n output features (weight rows)
 * @param k input features
 */
public record GemmShape(int m, int n, int k) {
    /** Validates the sizes. */
    public GemmShape {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM shape must be positive, got M=" + m + " N=" + n + " K=" + k);
        }
    }

    /** Floating-point operations of one product. */
    public double flops() {
        return 2.0 * m * n * k;
    }

    @Override
    public String toString() {
        return "M=" + m + " N=" + n + " K=" + k;
    }
}
