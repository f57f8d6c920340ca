package io.dcformer4j.bench;

/**
 * A model under measurement: what {@link BenchEngine} needs from an inference engine, so that the engine
 * can be tested on a toy and run on the real {@code DCFormerModel}.
 */
public interface BenchModel extends AutoCloseable {

    /** A new sequence with empty caches. */
    Sequence newSequence();

    /** Releases the model (not the backend). */
    @Override
    void close();

    /** One sequence: prefill then one-token decode steps. */
    interface Sequence extends AutoCloseable {
        /** Appends {@code tokens} in one prefill call. */
        void prefill(int[] tokens);

        /** Appends one token with a decode step. */
        void decode(int token);

        /** Releases the caches. */
        @Override
        void close();
    }
}
