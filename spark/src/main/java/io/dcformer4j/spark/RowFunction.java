package io.dcformer4j.spark;

/**
 * The per-partition work of a transformer: from one row's input text to its output values. Called from
 * several threads at once (up to the batch size); closed when the partition is done.
 */
interface RowFunction extends AutoCloseable {

    /**
     * The output values of one row, in the order of the transformer's output columns (the error column aside).
     *
     * @throws RowFailure or {@link IllegalArgumentException} when the row cannot be processed
     */
    Object[] apply(String text);

    /** Releases what the partition held (sessions); the shared model stays open. */
    @Override
    void close();
}
