package io.dcformer4j.model;

import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Tensor;

/**
 * One layer's bound weights. Projection matrices are the checkpoint's own storage (row slices of
 * {@code wqkv} for q, k and v); small vectors are F32 copies. Absent parts are {@code null}: biases outside
 * DCPythia, qk-norm scales without qk-norm, {@code dyn} for plain MHA, {@code w3}/{@code mg} outside
 * DCFormer++ SwiGLU/mgate.
 */
record LayerWeights(
        Tensor attnNorm, Tensor attnNormBias,
        Tensor wq, Tensor wk, Tensor wv, Tensor bq, Tensor bk, Tensor bv,
        Tensor wo, Tensor bo,
        Tensor qNorm, Tensor kNorm,
        DynamicWeightParams dyn, Tensor staticPre, Tensor staticPost,
        Tensor ffnNorm, Tensor ffnNormBias,
        Tensor w1, Tensor b1, Tensor w2, Tensor b2, Tensor w3, Tensor mg) {
}
