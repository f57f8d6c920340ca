package io.dcformer4j.api;

/**
 * The per-layer parameters of the DCMHA dynamic-weight generation (spec §2.2), as stored in checkpoints.
 *
 * @param dw1      {@code dyn_w_proj.dw1} [E, 1, 4, K] (any float dtype)
 * @param qkw      {@code dyn_w_proj.qkw} [1, 4, K, 2I, N]
 * @param dd       {@code dyn_w_proj.dd} [E, 1, 4N]
 * @param numHeads N
 * @param rank     I
 */
public record DynamicWeightParams(Tensor dw1, Tensor qkw, Tensor dd, int numHeads, int rank) {
    /** Validates shapes against N and I. */
    public DynamicWeightParams {
        if (dw1 == null || qkw == null || dd == null) {
            throw new IllegalArgumentException("dw1, qkw and dd are all required");
        }
        if (numHeads <= 0 || rank <= 0) {
            throw new IllegalArgumentException("numHeads and rank must be positive, got " + numHeads + ", " + rank);
        }
        long e = dd.shape().dim(0);
        if (dd.shape().numel() != e * 4L * numHeads) {
            throw new IllegalArgumentException("dd " + dd.label() + " has shape " + dd.shape() + ", expected [E, 1, "
                    + (4 * numHeads) + "]");
        }
        long k = qkw.shape().numel() / (4L * 2 * rank * numHeads);
        if (k <= 0 || qkw.shape().numel() != 4L * k * 2 * rank * numHeads) {
            throw new IllegalArgumentException("qkw " + qkw.label() + " has shape " + qkw.shape() + ", expected [1, 4, K, "
                    + (2 * rank) + ", " + numHeads + "]");
        }
        if (dw1.shape().numel() != e * 4L * k) {
            throw new IllegalArgumentException("dw1 " + dw1.label() + " has shape " + dw1.shape() + ", expected ["
                    + e + ", 1, 4, " + k + "]");
        }
    }

    /** E, the model width. */
    public int dim() {
        return dd.shape().dim(0);
    }

    /** K, the hidden width of the dynamic-weight MLP. */
    public int hidden() {
        return (int) (qkw.shape().numel() / (4L * 2 * rank * numHeads));
    }
}
