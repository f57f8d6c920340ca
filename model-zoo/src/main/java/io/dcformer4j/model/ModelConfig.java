package io.dcformer4j.model;

import io.dcformer4j.api.AttentionMode;
import java.nio.file.Path;
import java.util.List;

/**
 * The hyper-parameters of a DCFormer++ or DCPythia network (spec §1.7): the values {@code config.json} holds
 * once {@link ModelConfigReader} has applied the family's defaults, and the values derived from them as
 * methods (head size D, rotary dimensions, the attention mode, the window of each layer, the default compose
 * rank I and width K). Instances are immutable and consistent: the constructor refuses every inconsistency
 * with an {@link IllegalArgumentException} naming the field and the offending value (the reader adds the
 * file).
 *
 * <p>Two fields are ours, not the reference's: {@code use_sw} (static composition weights, spec §2.3) and
 * {@code r24_prefill_window_plus_one} (the R24 prefill window quirk, spec §1.6); both default to off.
 *
 * @param family            the network family ({@code model_type})
 * @param blockSize         {@code block_size}: the largest number of positions a sequence may have
 * @param vocabSize         V, {@code vocab_size}
 * @param numLayers         L, {@code n_layer}
 * @param numHeads          N, {@code n_head} (also the number of key/value heads)
 * @param dim               E, {@code dim}
 * @param intermediateSize  F, {@code intermediate_size} or the family's default
 * @param ropeBase          {@code rope_base}
 * @param rotaryPct         {@code rotary_pct} (1 for DCFormer++)
 * @param normEps           {@code norm_eps}: eps of the block and final norms (qk-norm uses 1e-6 always)
 * @param useQkNorm         {@code use_qk_norm}
 * @param useDcmha          {@code use_dcmha}; false selects the plain-MHA baseline (spec §2.4)
 * @param queryWise         {@code query_wise}: the key-wise compose terms are dropped (spec §3)
 * @param staticWeights     {@code use_sw} as written (see {@link #useSw()}, which also needs DCMHA)
 * @param windowSize        {@code window_size}, or 0 when it is null (every layer global)
 * @param windowType        {@code window_type} ("LG", "LGLL", "LGL6") or {@code null} (even layers local)
 * @param mgate             {@code mgate} (DCFormer++ only)
 * @param mgateDim          Mg, {@code mgate_dim}, or 0 when mgate is off
 * @param parallelResidual  {@code use_parallel_residual} (DCPythia; false for DCFormer++)
 * @param linearBias        {@code use_linear_bias} (DCPythia; false for DCFormer++)
 * @param tieWordEmbeddings {@code tie_word_embeddings}: when true and {@code output.weight} is absent, the
 *                          embedding table is the head
 * @param torchDtype        {@code torch_dtype} as written (informational), or {@code null}
 * @param bosTokenId        {@code bos_token_id} (bookkeeping only: the forward pass never adds it), or null
 * @param eosTokenId        {@code eos_token_id} (the first one when config.json lists several), or null
 * @param padTokenId        {@code pad_token_id}, or null
 * @param r24PrefillWindowPlusOne whether local layers use W+1 keys in multi-token calls (the R24 quirk)
 */
public record ModelConfig(
        ModelFamily family,
        int blockSize,
        int vocabSize,
        int numLayers,
        int numHeads,
        int dim,
        int intermediateSize,
        double ropeBase,
        double rotaryPct,
        double normEps,
        boolean useQkNorm,
        boolean useDcmha,
        boolean queryWise,
        boolean staticWeights,
        int windowSize,
        String windowType,
        boolean mgate,
        int mgateDim,
        boolean parallelResidual,
        boolean linearBias,
        boolean tieWordEmbeddings,
        String torchDtype,
        Integer bosTokenId,
        Integer eosTokenId,
        Integer padTokenId,
        boolean r24PrefillWindowPlusOne) {

    /** Window patterns of {@code window_type}; 'L' = local, 'G' = global, layer l uses entry l mod length. */
    static final List<String> WINDOW_TYPES = List.of("LG", "LGLL", "LGL6");

    /** Checks that the values fit together. */
    public ModelConfig {
        if (family == null) {
            throw new IllegalArgumentException("model_type (the family) is required");
        }
        requirePositive("block_size", blockSize);
        requirePositive("vocab_size", vocabSize);
        requirePositive("n_layer", numLayers);
        requirePositive("n_head", numHeads);
        requirePositive("dim", dim);
        requirePositive("intermediate_size", intermediateSize);
        if (dim % numHeads != 0) {
            throw new IllegalArgumentException("dim=" + dim + " is not divisible by n_head=" + numHeads);
        }
        if (!(ropeBase > 0) || Double.isInfinite(ropeBase)) {
            throw new IllegalArgumentException("rope_base must be positive and finite, got " + ropeBase);
        }
        if (!(normEps > 0) || Double.isInfinite(normEps)) {
            throw new IllegalArgumentException("norm_eps must be positive and finite, got " + normEps);
        }
        if (windowSize < 0) {
            throw new IllegalArgumentException("window_size must be positive or null, got " + windowSize);
        }
        if (windowType != null && !WINDOW_TYPES.contains(windowType)) {
            throw new IllegalArgumentException("unknown window_type \"" + windowType + "\" (expected null, \"LG\", "
                    + "\"LGLL\" or \"LGL6\")");
        }
        int headDim = dim / numHeads;
        if (family == ModelFamily.DCPYTHIA) {
            if (!(rotaryPct > 0) || rotaryPct > 1.0) {
                throw new IllegalArgumentException("rotary_pct must be in (0, 1], got " + rotaryPct);
            }
            int rotary = (int) Math.floor(headDim * rotaryPct);
            if (rotary % 2 != 0) {
                throw new IllegalArgumentException("rotary_pct=" + rotaryPct + " gives an odd number of "
                        + "rotary dimensions " + rotary + " for head_dim " + headDim);
            }
            if (mgate) {
                throw new IllegalArgumentException("mgate is a DCFormer++ option, not DCPythia's");
            }
        } else {
            if (rotaryPct != 1.0 || parallelResidual || linearBias) {
                throw new IllegalArgumentException("DCFormer++ rotates the whole head without parallel residual or "
                        + "linear biases; got rotary_pct=" + rotaryPct + ", use_parallel_residual=" + parallelResidual
                        + ", use_linear_bias=" + linearBias);
            }
            if (headDim % 2 != 0) {
                throw new IllegalArgumentException("head_dim dim/n_head=" + headDim
                        + " is odd; rotary embedding needs an even head size");
            }
        }
        if (mgate) {
            requirePositive("mgate_dim", mgateDim);
            if (intermediateSize % mgateDim != 0) {
                throw new IllegalArgumentException("mgate_dim=" + mgateDim + " does not divide intermediate_size="
                        + intermediateSize);
            }
        } else if (mgateDim != 0) {
            throw new IllegalArgumentException("mgate_dim=" + mgateDim + " without mgate");
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + value);
        }
    }

    /**
     * Reads a {@code config.json} file, or the {@code config.json} inside a directory (see
     * {@link ModelConfigReader#load}).
     */
    public static ModelConfig load(Path path) {
        return ModelConfigReader.load(path);
    }

    /** Parses the text of a {@code config.json}; {@code origin} names it in error messages. */
    public static ModelConfig parse(String json, String origin) {
        return ModelConfigReader.parse(json, origin);
    }

    /** Parses the text of a {@code config.json} (origin "config.json" in error messages). */
    public static ModelConfig parse(String json) {
        return parse(json, "config.json");
    }

    /**
     * This configuration with the R24 prefill quirk switched on or off: local layers then attend to W+1 keys
     * in multi-token calls (spec §1.6), as the released R24 reference prefill does. Off by default.
     */
    public ModelConfig withR24PrefillWindowPlusOne(boolean on) {
        return new ModelConfig(family, blockSize, vocabSize, numLayers, numHeads, dim, intermediateSize, ropeBase,
                rotaryPct, normEps, useQkNorm, useDcmha, queryWise, staticWeights, windowSize, windowType, mgate,
                mgateDim, parallelResidual, linearBias, tieWordEmbeddings, torchDtype, bosTokenId, eosTokenId,
                padTokenId, on);
    }

    // ---------------------------------------------------------------- derived values

    /** D = E / N ({@code head_dim} in config.json is ignored, as by the reference). */
    public int headDim() {
        return dim / numHeads;
    }

    /** Dr: D for DCFormer++, floor(D · rotary_pct) for DCPythia. */
    public int rotaryDim() {
        return family == ModelFamily.DCPYTHIA ? (int) Math.floor(headDim() * rotaryPct) : headDim();
    }

    /** {@code use_sw} in effect: static composition weights from {@code pre_proj.w}/{@code post_proj.w} (spec §2.3). */
    public boolean useSw() {
        return staticWeights && useDcmha;
    }

    /** The fused attention mode all layers use. */
    public AttentionMode attentionMode() {
        if (!useDcmha) {
            return AttentionMode.PLAIN_MHA;
        }
        return queryWise ? AttentionMode.QUERY_WISE : AttentionMode.DCMHA;
    }

    /** Whether layer {@code layer} is a local (sliding-window) layer (spec §1.6). */
    public boolean isLocal(int layer) {
        if (layer < 0 || layer >= numLayers) {
            throw new IndexOutOfBoundsException("layer " + layer + " of " + numLayers);
        }
        if (windowSize == 0) {
            return false;
        }
        if (windowType == null) {
            return layer % 2 == 0;
        }
        String pattern = switch (windowType) {
            case "LG" -> "LG";
            case "LGLL" -> "LGLL";
            default -> "LGLLLLLL";
        };
        return pattern.charAt(layer % pattern.length()) == 'L';
    }

    /** The window W of layer {@code layer}, or 0 for a global layer. */
    public int window(int layer) {
        return isLocal(layer) ? windowSize : 0;
    }

    /**
     * The default compose rank I the reference derives from N ({@code N // (N // 2)}, 2 for every even N);
     * checkpoints are checked against the rank their {@code qkw} tensor carries.
     */
    public int defaultComposeRank() {
        return numHeads >= 2 ? numHeads / (numHeads / 2) : 2;
    }

    /** The default width K = 4N of the dynamic-weight MLP. */
    public int defaultComposeHidden() {
        return 4 * numHeads;
    }

    @Override
    public String toString() {
        return family.modelType() + "{L=" + numLayers + ", E=" + dim + ", N=" + numHeads + ", D=" + headDim()
                + ", F=" + intermediateSize + ", V=" + vocabSize + ", block=" + blockSize + ", window="
                + (windowSize == 0 ? "none" : windowSize + "/" + (windowType == null ? "even-local" : windowType))
                + ", mode=" + attentionMode() + (mgate ? ", mgate=" + mgateDim : "")
                + (family == ModelFamily.DCPYTHIA ? ", rotary=" + rotaryDim() + ", parallel=" + parallelResidual
                + ", bias=" + linearBias : "") + (useQkNorm ? ", qk-norm" : "") + (useSw() ? ", sw" : "")
                + (r24PrefillWindowPlusOne ? ", r24-window" : "") + "}";
    }
}
