package io.dcformer4j.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.model.checkpoint.JsonErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * The hyper-parameters of a DCFormer++ or DCPythia network, read from a Hugging Face style
 * {@code config.json} (spec §1.7). Absent fields take the family's default; an explicit JSON {@code null}
 * is meaningful where the reference gives it a meaning ({@code window_size: null} makes every layer
 * global, {@code intermediate_size: null} selects the default width). Derived values (head size D,
 * rotary dimensions, the window of each layer, the compose rank I and width K) are computed here.
 *
 * <p>Two fields are ours, not the reference's: {@code use_sw} (static composition weights, spec §2.3) and
 * {@code r24_prefill_window_plus_one} (the R24 prefill window quirk, spec §1.6); both default to off.
 *
 * <p>Fields that do not change the inference maths are accepted and not used: {@code head_dim} (recomputed as
 * dim / n_head, as the reference does), {@code is_training}, {@code use_gradient_checkpointing},
 * {@code q_chunk_size}, {@code prefill_pad} and unknown keys.
 *
 * <p>Every inconsistency fails at load with an {@link IllegalArgumentException} naming the field and the
 * offending value. Instances are immutable.
 */
public final class ModelConfig {
    /** Window patterns of {@code window_type}; 'L' = local, 'G' = global, layer l uses entry l mod length. */
    private static final List<String> WINDOW_TYPES = List.of("LG", "LGLL", "LGL6");

    private final ModelFamily family;
    private final int blockSize;
    private final int vocabSize;
    private final int numLayers;
    private final int numHeads;
    private final int dim;
    private final int intermediateSize;
    private final double ropeBase;
    private final double normEps;
    private final boolean useQkNorm;
    private final boolean useDcmha;
    private final int windowSize;
    private final String windowType;
    private final boolean queryWise;
    private final boolean mgate;
    private final int mgateDim;
    private final boolean parallelResidual;
    private final boolean linearBias;
    private final double rotaryPct;
    private final int rotaryDim;
    private final boolean useSw;
    private final boolean tieWordEmbeddings;
    private final String torchDtype;
    private final Integer bosTokenId;
    private final Integer eosTokenId;
    private final Integer padTokenId;
    private final boolean r24PrefillWindowPlusOne;

    private ModelConfig(Fields f, boolean r24) {
        String where = f.origin;
        JsonNode typeNode = f.root.get("model_type");
        ModelFamily fam;
        if (typeNode == null || typeNode.isNull()) {
            fam = familyFromArchitectures(f.root, where);
        } else {
            if (!typeNode.isTextual()) {
                throw new IllegalArgumentException(where + ": model_type must be a string, got " + typeNode);
            }
            fam = ModelFamily.ofModelType(typeNode.asText());
            if (fam == null) {
                throw new IllegalArgumentException(where + ": unknown model_type '" + typeNode.asText()
                        + "' (expected 'dcformer' or 'dcpythia')");
            }
        }
        this.family = fam;
        boolean pythia = fam == ModelFamily.DCPYTHIA;

        this.blockSize = f.positiveInt("block_size", 2048);
        this.vocabSize = f.positiveInt("vocab_size", 32000);
        this.numLayers = f.positiveInt("n_layer", 32);
        this.numHeads = f.positiveInt("n_head", 32);
        this.dim = f.positiveInt("dim", 2560);
        if (dim % numHeads != 0) {
            throw new IllegalArgumentException(where + ": dim=" + dim + " is not divisible by n_head=" + numHeads);
        }
        Integer localHeads = f.nullableInt("n_local_heads", -1);
        if (localHeads != null && localHeads != -1 && localHeads != numHeads) {
            throw new IllegalArgumentException(where + ": n_local_heads=" + localHeads + " differs from n_head="
                    + numHeads + " (grouped key/value heads are not supported; use -1 or " + numHeads + ")");
        }
        Integer ffn = f.nullableInt("intermediate_size", null);
        if (ffn == null) {
            ffn = pythia ? 4 * dim : findMultiple(8 * dim / 3, 256);
        } else if (ffn <= 0) {
            throw new IllegalArgumentException(where + ": intermediate_size must be positive, got " + ffn);
        }
        this.intermediateSize = ffn;
        this.ropeBase = f.positiveDouble("rope_base", pythia ? 10000.0 : 500000.0);
        this.normEps = f.positiveDouble("norm_eps", 1e-5);
        this.useQkNorm = f.bool("use_qk_norm", false);
        this.useDcmha = f.bool("use_dcmha", true);
        this.queryWise = f.bool("query_wise", false);
        this.useSw = f.bool("use_sw", false);
        this.tieWordEmbeddings = f.bool("tie_word_embeddings", false);

        Integer window = f.nullableInt("window_size", 256);
        if (window != null && window <= 0) {
            throw new IllegalArgumentException(where + ": window_size must be positive or null, got " + window);
        }
        this.windowSize = window == null ? 0 : window;
        JsonNode wt = f.root.get("window_type");
        if (wt == null || wt.isNull()) {
            this.windowType = null;
        } else if (!wt.isTextual() || !WINDOW_TYPES.contains(wt.asText())) {
            throw new IllegalArgumentException(where + ": unknown window_type " + wt + " (expected null, \"LG\", "
                    + "\"LGLL\" or \"LGL6\")");
        } else {
            this.windowType = wt.asText();
        }

        if (pythia) {
            this.mgate = false;
            this.mgateDim = 0;
            this.parallelResidual = f.bool("use_parallel_residual", true);
            this.linearBias = f.bool("use_linear_bias", true);
            this.rotaryPct = f.positiveDouble("rotary_pct", 0.25);
            if (rotaryPct > 1.0) {
                throw new IllegalArgumentException(where + ": rotary_pct must be in (0, 1], got " + rotaryPct);
            }
            this.rotaryDim = (int) Math.floor(headDim() * rotaryPct);
            if (rotaryDim % 2 != 0) {
                throw new IllegalArgumentException(where + ": rotary_pct=" + rotaryPct + " gives an odd number of "
                        + "rotary dimensions " + rotaryDim + " for head_dim " + headDim());
            }
        } else {
            this.mgate = f.bool("mgate", false);
            int mg = mgate ? f.positiveInt("mgate_dim", 44) : 0;
            if (mgate && intermediateSize % mg != 0) {
                throw new IllegalArgumentException(where + ": mgate_dim=" + mg + " does not divide intermediate_size="
                        + intermediateSize);
            }
            this.mgateDim = mg;
            this.parallelResidual = false;
            this.linearBias = false;
            this.rotaryPct = 1.0;
            this.rotaryDim = headDim();
            if (rotaryDim % 2 != 0) {
                throw new IllegalArgumentException(where + ": head_dim dim/n_head=" + rotaryDim
                        + " is odd; rotary embedding needs an even head size");
            }
        }
        JsonNode dt = f.root.get("torch_dtype");
        this.torchDtype = dt == null || dt.isNull() ? null : dt.asText();
        this.bosTokenId = f.tokenId("bos_token_id", pythia ? 0 : 1);
        this.eosTokenId = f.tokenId("eos_token_id", pythia ? 0 : 2);
        this.padTokenId = f.tokenId("pad_token_id", null);
        this.r24PrefillWindowPlusOne = r24 || f.bool("r24_prefill_window_plus_one", false);
    }

    private ModelConfig(ModelConfig base, boolean r24) {
        this.family = base.family;
        this.blockSize = base.blockSize;
        this.vocabSize = base.vocabSize;
        this.numLayers = base.numLayers;
        this.numHeads = base.numHeads;
        this.dim = base.dim;
        this.intermediateSize = base.intermediateSize;
        this.ropeBase = base.ropeBase;
        this.normEps = base.normEps;
        this.useQkNorm = base.useQkNorm;
        this.useDcmha = base.useDcmha;
        this.windowSize = base.windowSize;
        this.windowType = base.windowType;
        this.queryWise = base.queryWise;
        this.mgate = base.mgate;
        this.mgateDim = base.mgateDim;
        this.parallelResidual = base.parallelResidual;
        this.linearBias = base.linearBias;
        this.rotaryPct = base.rotaryPct;
        this.rotaryDim = base.rotaryDim;
        this.useSw = base.useSw;
        this.tieWordEmbeddings = base.tieWordEmbeddings;
        this.torchDtype = base.torchDtype;
        this.bosTokenId = base.bosTokenId;
        this.eosTokenId = base.eosTokenId;
        this.padTokenId = base.padTokenId;
        this.r24PrefillWindowPlusOne = r24;
    }

    /**
     * Reads a {@code config.json} file, or the {@code config.json} inside a directory.
     *
     * @throws IllegalArgumentException naming the file and field when the file is malformed or inconsistent
     * @throws UncheckedIOException     when the file cannot be read
     */
    public static ModelConfig load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("config.json") : path;
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("model config not found: " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model config " + file + ": " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses the text of a {@code config.json}; {@code origin} names it in error messages. */
    public static ModelConfig parse(String json, String origin) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(origin + ": not valid JSON: " + JsonErrors.describe(e));
        }
        if (!(root instanceof ObjectNode)) {
            throw new IllegalArgumentException(origin + ": expected a JSON object at the top level");
        }
        return new ModelConfig(new Fields(root, origin), false);
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
        return new ModelConfig(this, on);
    }

    private static ModelFamily familyFromArchitectures(JsonNode root, String where) {
        JsonNode arch = root.get("architectures");
        if (arch != null && arch.isArray()) {
            for (JsonNode a : arch) {
                ModelFamily f = a.isTextual() ? ModelFamily.ofArchitecture(a.asText()) : null;
                if (f != null) {
                    return f;
                }
            }
            throw new IllegalArgumentException(where + ": missing required field model_type, and architectures "
                    + arch + " names no known family (DCFormer, DCPythia)");
        }
        throw new IllegalArgumentException(where + ": missing required field model_type (expected 'dcformer' or "
                + "'dcpythia')");
    }

    /** {@code n} rounded up to a multiple of {@code k} (the reference's {@code find_multiple}). */
    static int findMultiple(int n, int k) {
        return n % k == 0 ? n : n + k - n % k;
    }

    /** The network family. */
    public ModelFamily family() {
        return family;
    }

    /** {@code block_size}: the largest number of positions a sequence may have. */
    public int blockSize() {
        return blockSize;
    }

    /** V, {@code vocab_size}. */
    public int vocabSize() {
        return vocabSize;
    }

    /** L, {@code n_layer}. */
    public int numLayers() {
        return numLayers;
    }

    /** N, {@code n_head} (also the number of key/value heads). */
    public int numHeads() {
        return numHeads;
    }

    /** E, {@code dim}. */
    public int dim() {
        return dim;
    }

    /** D = E / N ({@code head_dim} in config.json is ignored, as by the reference). */
    public int headDim() {
        return dim / numHeads;
    }

    /** F, {@code intermediate_size} or the family's default. */
    public int intermediateSize() {
        return intermediateSize;
    }

    /** {@code rope_base}. */
    public double ropeBase() {
        return ropeBase;
    }

    /** Dr: D for DCFormer++, floor(D · rotary_pct) for DCPythia. */
    public int rotaryDim() {
        return rotaryDim;
    }

    /** {@code rotary_pct} (1 for DCFormer++). */
    public double rotaryPct() {
        return rotaryPct;
    }

    /** {@code norm_eps}: eps of the block and final norms (qk-norm uses 1e-6 always). */
    public double normEps() {
        return normEps;
    }

    /** {@code use_qk_norm}. */
    public boolean useQkNorm() {
        return useQkNorm;
    }

    /** {@code use_dcmha}; false selects the plain-MHA baseline (spec §2.4). */
    public boolean useDcmha() {
        return useDcmha;
    }

    /** {@code query_wise}: the key-wise compose terms are dropped (spec §3). */
    public boolean queryWise() {
        return queryWise;
    }

    /** {@code use_sw}: static composition weights from {@code pre_proj.w}/{@code post_proj.w} (spec §2.3). */
    public boolean useSw() {
        return useSw && useDcmha;
    }

    /** The fused attention mode all layers use. */
    public AttentionMode attentionMode() {
        if (!useDcmha) {
            return AttentionMode.PLAIN_MHA;
        }
        return queryWise ? AttentionMode.QUERY_WISE : AttentionMode.DCMHA;
    }

    /** {@code window_size}, or 0 when it is null (every layer global). */
    public int windowSize() {
        return windowSize;
    }

    /** {@code window_type} ("LG", "LGLL", "LGL6") or {@code null}. */
    public String windowType() {
        return windowType;
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

    /** {@code mgate} (DCFormer++ only). */
    public boolean mgate() {
        return mgate;
    }

    /** Mg, {@code mgate_dim}, or 0 when mgate is off. */
    public int mgateDim() {
        return mgateDim;
    }

    /** {@code use_parallel_residual} (DCPythia; false for DCFormer++). */
    public boolean parallelResidual() {
        return parallelResidual;
    }

    /** {@code use_linear_bias} (DCPythia; false for DCFormer++). */
    public boolean linearBias() {
        return linearBias;
    }

    /** {@code tie_word_embeddings}: when true and {@code output.weight} is absent, the embedding table is the head. */
    public boolean tieWordEmbeddings() {
        return tieWordEmbeddings;
    }

    /** {@code torch_dtype} as written (informational), or {@code null}. */
    public String torchDtype() {
        return torchDtype;
    }

    /** {@code bos_token_id} (bookkeeping only: the forward pass never adds it), or {@code null}. */
    public Integer bosTokenId() {
        return bosTokenId;
    }

    /** {@code eos_token_id} (the first one when config.json lists several), or {@code null}. */
    public Integer eosTokenId() {
        return eosTokenId;
    }

    /** {@code pad_token_id}, or {@code null}. */
    public Integer padTokenId() {
        return padTokenId;
    }

    /** Whether local layers use W+1 keys in multi-token calls (the R24 quirk). */
    public boolean r24PrefillWindowPlusOne() {
        return r24PrefillWindowPlusOne;
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
                + (family == ModelFamily.DCPYTHIA ? ", rotary=" + rotaryDim + ", parallel=" + parallelResidual
                + ", bias=" + linearBias : "") + (useQkNorm ? ", qk-norm" : "") + (useSw() ? ", sw" : "")
                + (r24PrefillWindowPlusOne ? ", r24-window" : "") + "}";
    }

    /** Typed access to the JSON fields, with errors naming the field, value and file. */
    private record Fields(JsonNode root, String origin) {
        int positiveInt(String name, int dflt) {
            Integer v = nullableInt(name, dflt);
            if (v == null) {
                throw new IllegalArgumentException(origin + ": " + name + " must not be null");
            }
            if (v <= 0) {
                throw new IllegalArgumentException(origin + ": " + name + " must be positive, got " + v);
            }
            return v;
        }

        /** The value, {@code dflt} when absent, {@code null} when explicitly null. */
        Integer nullableInt(String name, Integer dflt) {
            JsonNode n = root.get(name);
            if (n == null) {
                return dflt;
            }
            if (n.isNull()) {
                return null;
            }
            if (n.isIntegralNumber() && n.canConvertToInt()) {
                return n.intValue();
            }
            if (n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue())
                    && Math.abs(n.doubleValue()) <= Integer.MAX_VALUE) {
                return (int) n.doubleValue();
            }
            throw new IllegalArgumentException(origin + ": " + name + " must be an integer, got " + n);
        }

        /** A token id: an integer, the first of a list of integers, or null. */
        Integer tokenId(String name, Integer dflt) {
            JsonNode n = root.get(name);
            if (n != null && n.isArray()) {
                return n.isEmpty() ? null : new Fields(n, origin).nullableInt(0, name);
            }
            return nullableInt(name, dflt);
        }

        private Integer nullableInt(int index, String name) {
            JsonNode n = root.get(index);
            if (n.isIntegralNumber() && n.canConvertToInt()) {
                return n.intValue();
            }
            throw new IllegalArgumentException(origin + ": " + name + " must list integers, got " + root);
        }

        double positiveDouble(String name, double dflt) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isNumber()) {
                throw new IllegalArgumentException(origin + ": " + name + " must be a number, got " + n);
            }
            double v = n.doubleValue();
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException(origin + ": " + name + " must be positive and finite, got " + n);
            }
            return v;
        }

        boolean bool(String name, boolean dflt) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) {
                return dflt;
            }
            if (!n.isBoolean()) {
                throw new IllegalArgumentException(origin + ": " + name + " must be true or false, got " + n);
            }
            return n.booleanValue();
        }
    }
}
