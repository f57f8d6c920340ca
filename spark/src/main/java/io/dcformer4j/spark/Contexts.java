package io.dcformer4j.spark;

import io.dcformer4j.DCFormer;

/** The {@code contextSize} param against the model, and the vocabulary check of a row's tokens. */
final class Contexts {
    private Contexts() {
    }

    /**
     * The context size in tokens: {@code requested}, or the model's {@code block_size} when it is 0.
     *
     * @throws IllegalArgumentException (a configuration error, which fails the job) when it exceeds block_size
     */
    static int resolve(int requested, DCFormer model) {
        int block = model.config().blockSize();
        if (requested > block) {
            throw new IllegalArgumentException("contextSize " + requested + " is larger than the model's block_size "
                    + block + " (" + model.directory() + ")");
        }
        return requested == 0 ? block : requested;
    }

    /** Fails the row when a token id is outside the model's embedding table (a tokenizer larger than the model). */
    static void checkVocabulary(int[] ids, int vocab) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                throw new RowFailure("undecodable input: token " + i + " has id " + ids[i]
                        + ", outside the model's vocabulary [0, " + vocab + ")");
            }
        }
    }
}
