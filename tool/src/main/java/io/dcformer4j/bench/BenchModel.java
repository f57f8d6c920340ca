package io.dcformer4j.bench;

/**
 * A model under measurement: what {@link BenchEngine} needs from an inference engine, so that the engine
 * can be tested on a toy and run on the real {@code DCFormerModel}.
 */
public interface BenchModel extends AutoCloseable {

    /** A new sequence with empty caches. */
    Sequence newSequence();

    /** A new sequence that needs room for only {@code maxContext} positions (the default ignores the bound). */
    default Sequence newSequence(int maxContext) {
        return newSequence();
    }

    /**
     * Batched decode steps over up to {@code maxRows} of this model's sequences at once, or {@code null} when
     * the engine cannot batch.
     */
    default Batch newBatch(int maxRows) {
        return null;
    }

    /** Decode steps of several sequences as one step. */
    interface Batch extends AutoCloseable {
        /** Appends {@code tokens[b]} to {@code sequences.get(b)}, all in one step. */
        void step(java.util.List<Sequence> sequences, int[] tokens);

        /** Releases the batch's scratch. */
        @Override
        void close();
    }

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
