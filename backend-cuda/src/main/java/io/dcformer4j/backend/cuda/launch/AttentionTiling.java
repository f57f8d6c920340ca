package io.dcformer4j.backend.cuda.launch;

/**
 * Shared-memory tiling of the fused attention kernels.
 *
 * <p>Prefill keeps the scores of all N heads for a tile of Bt queries by Bs keys in shared memory
 * ({@code S [N][Bt][Bs]}, doubled when static compose weights need a scratch column) plus the per-row
 * softmax statistics ({@code mu, zeta [Bt][N]}). Decode keeps {@code A [N][chunk]} (doubled likewise) per
 * split of the keys.
 */
public final class AttentionTiling {
    /** Shared memory a block may use without an opt-in attribute. */
    public static final int DEFAULT_SHARED_BUDGET = 48 * 1024;
    /** Preferred key-tile width of the prefill kernel. */
    public static final int PREFILL_KEY_TILE = 32;
    /** Largest query tile of the prefill kernel. */
    public static final int PREFILL_MAX_QUERY_TILE = 16;
    /** Largest and smallest key split of the decode kernels. */
    public static final int DECODE_MAX_CHUNK = 128;
    /** Smallest key split of the decode kernels. */
    public static final int DECODE_MIN_CHUNK = 16;
    /** Splits the decode aims for, so that a long context fills the multiprocessors. */
    public static final int DECODE_TARGET_SPLITS = 132;
    /** Threads per block of every attention kernel. */
    public static final int THREADS = 256;
    /** Largest compose rank the kernels unroll for ({@code MAX_RANK} in attention.cu). */
    public static final int MAX_RANK = 4;

    private AttentionTiling() {
    }

    /**
     * Prefill tile sizes.
     *
     * @param queryTile   Bt, queries per block
     * @param keyTile     Bs, keys per step
     * @param sharedBytes dynamic shared memory per block
     * @param blocks      grid size for T queries
     */
    public record Prefill(int queryTile, int keyTile, int sharedBytes, int blocks) {
    }

    /**
     * Decode split sizes.
     *
     * @param numKeys     visible keys of the query
     * @param chunk       keys per split
     * @param splits      number of splits (blocks)
     * @param sharedBytes dynamic shared memory per block
     */
    public record Decode(int numKeys, int chunk, int splits, int sharedBytes) {
        /** Floats of the pre-composed logit buffer [N][numKeys]. */
        public long logitFloats(int numHeads) {
            return (long) numHeads * numKeys;
        }

        /** Floats of the per-split (max, sum) partials [splits][2][N]. */
        public long partialFloats(int numHeads) {
            return 2L * splits * numHeads;
        }

        /** Floats of the per-split output partials [splits][N*D]. */
        public long outputPartialFloats(int numHeads, int headDim) {
            return (long) splits * numHeads * headDim;
        }
    }

    /** Bytes of prefill shared memory for a tile. */
    public static long prefillSharedBytes(int numHeads, int queryTile, int keyTile, boolean staticWeights) {
        long scores = (long) numHeads * queryTile * keyTile * (staticWeights ? 2 : 1);
        return 4L * (scores + 2L * queryTile * numHeads);
    }

    /**
     * The largest query tile (a power of two up to 16, key tile 32, narrowed if needed) that fits the budget.
     *
     * @throws IllegalArgumentException when even a 1 x 1 tile does not fit
     */
    public static Prefill prefill(int numQueries, int numHeads, boolean staticWeights, int sharedBudget) {
        if (numQueries <= 0 || numHeads <= 0) {
            throw new IllegalArgumentException("attention prefill needs queries and heads, got T=" + numQueries
                    + ", N=" + numHeads);
        }
        for (int bs = PREFILL_KEY_TILE; bs >= 1; bs /= 2) {
            for (int bt = PREFILL_MAX_QUERY_TILE; bt >= 1; bt /= 2) {
                long bytes = prefillSharedBytes(numHeads, bt, bs, staticWeights);
                if (bytes <= sharedBudget) {
                    return new Prefill(bt, bs, (int) bytes, ceilDiv(numQueries, bt));
                }
            }
        }
        throw new IllegalArgumentException("attention prefill: " + numHeads + " heads do not fit "
                + sharedBudget + " bytes of shared memory");
    }

    /**
     * Decode splits for {@code numKeys} visible keys: chunks of 16..128 keys (a multiple of 16), aiming at
     * about {@value #DECODE_TARGET_SPLITS} splits, narrowed to fit the budget.
     */
    public static Decode decode(int numKeys, int numHeads, boolean staticWeights, int sharedBudget) {
        if (numKeys <= 0 || numHeads <= 0) {
            throw new IllegalArgumentException("attention decode needs keys and heads, got S=" + numKeys
                    + ", N=" + numHeads);
        }
        int chunk = ceilDiv(numKeys, DECODE_TARGET_SPLITS);
        chunk = ceilDiv(chunk, DECODE_MIN_CHUNK) * DECODE_MIN_CHUNK;
        chunk = Math.max(DECODE_MIN_CHUNK, Math.min(DECODE_MAX_CHUNK, chunk));
        int perKey = numHeads * 4 * (staticWeights ? 2 : 1);
        while (chunk > 1 && (long) chunk * perKey > sharedBudget) {
            chunk /= 2;
        }
        if ((long) chunk * perKey > sharedBudget) {
            throw new IllegalArgumentException("attention decode: " + numHeads + " heads do not fit "
                    + sharedBudget + " bytes of shared memory");
        }
        return new Decode(numKeys, chunk, ceilDiv(numKeys, chunk), chunk * perKey);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
