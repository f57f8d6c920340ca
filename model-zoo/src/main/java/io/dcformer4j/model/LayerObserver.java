package io.dcformer4j.model;

import io.dcformer4j.api.Tensor;

/**
 * A debugging hook that sees the residual stream after every layer (what the golden files call
 * {@code layer{N}_out}), to localise a numerical difference to one layer. Install it with
 * {@link Session#setLayerObserver}.
 */
@FunctionalInterface
public interface LayerObserver {
    /**
     * Called after layer {@code layer} of every prefill or decode call.
     *
     * @param layer         the layer index
     * @param firstPosition absolute position of row 0 of {@code residual}
     * @param residual      the residual stream [T, E]; valid only during this call (copy it with
     *                      {@link Tensor#toFloatArray()})
     */
    void afterLayer(int layer, int firstPosition, Tensor residual);
}
