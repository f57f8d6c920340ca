package io.dcformer4j.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.model.checkpoint.JsonErrors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a Hugging Face style {@code config.json} into a {@link ModelConfig}. Absent fields take the family's
 * default (the defaults live here, with the family they depend on); an explicit JSON {@code null} is meaningful
 * where the reference gives it a meaning ({@code window_size: null} makes every layer global,
 * {@code intermediate_size: null} selects the default width).
 *
 * <p>Fields that do not change the inference maths are accepted and not used: {@code head_dim} (recomputed as
 * dim / n_head, as the reference does), {@code is_training}, {@code use_gradient_checkpointing},
 * {@code q_chunk_size}, {@code prefill_pad} and unknown keys.
 *
 * <p>Every malformed or inconsistent field fails with an {@link IllegalArgumentException} naming the file, the
 * field and the offending value.
 */
public final class ModelConfigReader {
    private ModelConfigReader() {
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
        return read(new Fields(root, origin));
    }

    private static ModelConfig read(Fields f) {
        String where = f.origin();
        ModelFamily family = family(f.root(), where);
        boolean pythia = family == ModelFamily.DCPYTHIA;

        int blockSize = f.positiveInt("block_size", 2048);
        int vocabSize = f.positiveInt("vocab_size", 32000);
        int numLayers = f.positiveInt("n_layer", 32);
        int numHeads = f.positiveInt("n_head", 32);
        int dim = f.positiveInt("dim", 2560);
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
            // In long: 4 * dim and 8 * dim overflowed int for a dim near 2^31, giving a negative width.
            long wide = pythia ? 4L * dim : findMultiple(8L * dim / 3, 256);
            if (wide > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(where + ": dim=" + dim + " gives a default intermediate_size of "
                        + wide + ", more than an int can hold; give intermediate_size explicitly or a smaller dim");
            }
            ffn = (int) wide;
        } else if (ffn <= 0) {
            throw new IllegalArgumentException(where + ": intermediate_size must be positive, got " + ffn);
        }
        int intermediateSize = ffn;
        double ropeBase = f.positiveDouble("rope_base", pythia ? 10000.0 : 500000.0);
        double normEps = f.positiveDouble("norm_eps", 1e-5);
        boolean useQkNorm = f.bool("use_qk_norm", false);
        boolean useDcmha = f.bool("use_dcmha", true);
        boolean queryWise = f.bool("query_wise", false);
        boolean staticWeights = f.bool("use_sw", false);
        boolean tieWordEmbeddings = f.bool("tie_word_embeddings", false);

        Integer window = f.nullableInt("window_size", 256);
        if (window != null && window <= 0) {
            throw new IllegalArgumentException(where + ": window_size must be positive or null, got " + window);
        }
        int windowSize = window == null ? 0 : window;
        String windowType;
        JsonNode wt = f.root().get("window_type");
        if (wt == null || wt.isNull()) {
            windowType = null;
        } else if (!wt.isTextual() || !ModelConfig.WINDOW_TYPES.contains(wt.asText())) {
            throw new IllegalArgumentException(where + ": unknown window_type " + wt + " (expected null, \"LG\", "
                    + "\"LGLL\" or \"LGL6\")");
        } else {
            windowType = wt.asText();
        }

        boolean mgate = !pythia && f.bool("mgate", false);
        int mgateDim = mgate ? f.positiveInt("mgate_dim", 44) : 0;
        boolean parallelResidual = pythia && f.bool("use_parallel_residual", true);
        boolean linearBias = pythia && f.bool("use_linear_bias", true);
        double rotaryPct = pythia ? f.positiveDouble("rotary_pct", 0.25) : 1.0;

        JsonNode dt = f.root().get("torch_dtype");
        String torchDtype = dt == null || dt.isNull() ? null : dt.asText();
        Integer bosTokenId = f.tokenId("bos_token_id", pythia ? 0 : 1);
        Integer eosTokenId = f.tokenId("eos_token_id", pythia ? 0 : 2);
        Integer padTokenId = f.tokenId("pad_token_id", null);
        boolean r24PrefillWindowPlusOne = f.bool("r24_prefill_window_plus_one", false);
        try {
            return new ModelConfig(family, blockSize, vocabSize, numLayers, numHeads, dim, intermediateSize, ropeBase,
                    rotaryPct, normEps, useQkNorm, useDcmha, queryWise, staticWeights, windowSize, windowType, mgate,
                    mgateDim, parallelResidual, linearBias, tieWordEmbeddings, torchDtype, bosTokenId, eosTokenId,
                    padTokenId, r24PrefillWindowPlusOne);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /** {@code model_type}, or the first known family among {@code architectures}. */
    private static ModelFamily family(JsonNode root, String where) {
        JsonNode typeNode = root.get("model_type");
        if (typeNode == null || typeNode.isNull()) {
            return familyFromArchitectures(root, where);
        }
        if (!typeNode.isTextual()) {
            throw new IllegalArgumentException(where + ": model_type must be a string, got " + typeNode);
        }
        ModelFamily family = ModelFamily.ofModelType(typeNode.asText());
        if (family == null) {
            throw new IllegalArgumentException(where + ": unknown model_type '" + typeNode.asText()
                    + "' (expected 'dcformer' or 'dcpythia')");
        }
        return family;
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
    static long findMultiple(long n, long k) {
        return n % k == 0 ? n : n + k - n % k;
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
