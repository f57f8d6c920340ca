package io.dcformer4j;

/**
 * Progress of loading a model's weights, reported once per tensor as it is bound to the backend (the CLI
 * draws a progress bar with it). Called on the loading thread.
 */
@FunctionalInterface
public interface LoadListener {
    /** Ignores progress. */
    LoadListener NONE = (tensor, doneBytes, totalBytes) -> { };

    /**
     * One more tensor was read.
     *
     * @param tensor     its checkpoint name
     * @param doneBytes  bytes of the tensors read so far
     * @param totalBytes bytes of all tensors of the checkpoint (ignored entries included)
     */
    void onTensor(String tensor, long doneBytes, long totalBytes);
}
