package io.dcformer4j.model;

import io.dcformer4j.api.Tensor;

/**
 * A {@link LayerObserver} that remembers the first layer output holding NaN or infinity: where, and the
 * value. Copies every layer's residual to the host, so it is installed only to explain a failure.
 */
final class FirstNonFiniteLayer implements LayerObserver {
    private final int dim;
    int layer = -1;
    int position = -1;
    int element = -1;
    float value;

    FirstNonFiniteLayer(int dim) {
        this.dim = dim;
    }

    @Override
    public void afterLayer(int l, int firstPosition, Tensor residual) {
        if (layer >= 0) {
            return;
        }
        float[] x = residual.toFloatArray(); // [T, E]
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                layer = l;
                position = firstPosition + i / dim;
                element = i % dim;
                value = x[i];
                return;
            }
        }
    }
}
