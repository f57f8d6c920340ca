package io.dcformer4j.bench;

import io.dcformer4j.api.DType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The shape of a DCFormer++ model measured by {@code bench}: LGLL layer pattern, qk-norm, rank I = 2 and
 * a dynamic-weight hidden width K = 4N (as in every released model, C = 4 compose slots). The same preset
 * describes both the DCMHA network and its plain-MHA baseline (no {@code dyn_w_proj}).
 *
 * @param name        preset name as typed on the command line
 * @param dim         E
 * @param heads       N
 * @param layers      L
 * @param ffn         F, the SwiGLU hidden width
 * @param vocab       V
 * @param window      W of the local layers
 * @param weightDType storage type of every weight
 * @param blockSize   the model's position limit (RoPE table, global caches)
 */
public record BenchPreset(String name, int dim, int heads, int layers, int ffn, int vocab, int window,
                          DType weightDType, int blockSize) {

    /** Compose rank of the dynamic projections. */
    public static final int RANK = 2;
    /** Compose slots: pre/query, pre/key, post/query, post/key. */
    public static final int SLOTS = 4;
    /** The layer pattern of every preset. */
    public static final String WINDOW_TYPE = "LGLL";

    /** The small benchmark model the performance targets name: E 512, 8 heads, 8 layers, BF16 weights. */
    public static final BenchPreset SMALL = new BenchPreset("small", 512, 8, 8, 1408, 32000, 256, DType.BF16, 2304);
    /** The medium benchmark model the performance targets name: E 1024, 16 heads, 24 layers, BF16 weights. */
    public static final BenchPreset MEDIUM = new BenchPreset("medium", 1024, 16, 24, 2816, 32000, 256, DType.BF16, 2304);
    /**
     * The shape at which the official PyTorch code was timed on this kind of machine (dim 1024, 16 heads,
     * 8 layers, F32 weights); F follows the reference default for E = 1024.
     */
    public static final BenchPreset PYTORCH_REF = new BenchPreset("pytorch-ref", 1024, 16, 8, 2816, 32000, 256, DType.F32, 2304);
    /** A toy shape for tests and smoke runs. */
    public static final BenchPreset TINY = new BenchPreset("tiny", 64, 4, 4, 128, 256, 8, DType.BF16, 128);

    /** Validates the fields. */
    public BenchPreset {
        if (dim <= 0 || heads <= 0 || layers <= 0 || ffn <= 0 || vocab <= 0 || window <= 0 || blockSize <= 0) {
            throw new IllegalArgumentException("preset " + name + ": every size must be positive");
        }
        if (dim % heads != 0) {
            throw new IllegalArgumentException("preset " + name + ": dim " + dim + " is not divisible by heads " + heads);
        }
        if (!weightDType.isFloating()) {
            throw new IllegalArgumentException("preset " + name + ": weight dtype must be floating, got " + weightDType);
        }
    }

    /** The built-in presets. */
    public static List<BenchPreset> all() {
        return List.of(SMALL, MEDIUM, PYTORCH_REF, TINY);
    }

    /** The preset of that name. */
    public static BenchPreset byName(String name) {
        for (BenchPreset p : all()) {
            if (p.name.equals(name.toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        List<String> names = new java.util.ArrayList<>(all().stream().map(BenchPreset::name).toList());
        names.addAll(ReleasedShape.names());
        throw new IllegalArgumentException("unknown preset '" + name + "', expected one of " + names);
    }

    /** This preset with another weight dtype, block size or layer count (flags of {@code bench}). */
    public BenchPreset with(DType dtype, int newBlockSize, int newLayers) {
        return new BenchPreset(name, dim, heads, newLayers, ffn, vocab, window, dtype, newBlockSize);
    }

    /** D = E / N. */
    public int headDim() {
        return dim / heads;
    }

    /** K, the dynamic-weight MLP width (4N). */
    public int dynHidden() {
        return SLOTS * heads;
    }

    /** Whether layer l is global under LGLL (l mod 4 == 1). */
    public boolean isGlobal(int layer) {
        return layer % 4 == 1;
    }

    /** Number of global layers. */
    public int globalLayers() {
        int g = 0;
        for (int l = 0; l < layers; l++) {
            g += isGlobal(l) ? 1 : 0;
        }
        return g;
    }

    /**
     * A Hugging Face style {@code config.json} of this preset (spec §1.7 field names).
     *
     * @param dcmha false for the plain-MHA baseline ({@code use_dcmha} false)
     */
    public Map<String, Object> configJson(boolean dcmha) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model_type", "dcformer");
        c.put("architectures", List.of("DCFormer"));
        c.put("block_size", blockSize);
        c.put("vocab_size", vocab);
        c.put("n_layer", layers);
        c.put("n_head", heads);
        c.put("n_local_heads", heads);
        c.put("dim", dim);
        c.put("head_dim", headDim());
        c.put("intermediate_size", ffn);
        c.put("rope_base", 10000);
        c.put("norm_eps", 1e-6);
        c.put("use_qk_norm", true);
        c.put("window_size", window);
        c.put("window_type", WINDOW_TYPE);
        c.put("query_wise", false);
        c.put("use_dcmha", dcmha);
        c.put("mgate", false);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", switch (weightDType) {
            case F32 -> "float32";
            case F16 -> "float16";
            default -> "bfloat16";
        });
        return c;
    }

    /**
     * Every weight of the model with its shape, named as in the official state_dict (spec §5.1).
     *
     * @param dcmha false for the plain-MHA baseline, which has no {@code dyn_w_proj}
     */
    public Map<String, int[]> tensorShapes(boolean dcmha) {
        int d = headDim();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("tok_embeddings.weight", new int[] {vocab, dim});
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            m.put(p + "attention_norm.weight", new int[] {dim});
            m.put(p + "attention.wqkv.weight", new int[] {3 * dim, dim});
            m.put(p + "attention.wo.weight", new int[] {dim, dim});
            m.put(p + "attention.q_norm.scale", new int[] {d});
            m.put(p + "attention.k_norm.scale", new int[] {d});
            if (dcmha) {
                m.put(p + "attention.dyn_w_proj.dw1", new int[] {dim, 1, SLOTS, dynHidden()});
                m.put(p + "attention.dyn_w_proj.qkw", new int[] {1, SLOTS, dynHidden(), 2 * RANK, heads});
                m.put(p + "attention.dyn_w_proj.dd", new int[] {dim, 1, SLOTS * heads});
            }
            m.put(p + "ffn_norm.weight", new int[] {dim});
            m.put(p + "feed_forward.w1.weight", new int[] {ffn, dim});
            m.put(p + "feed_forward.w3.weight", new int[] {ffn, dim});
            m.put(p + "feed_forward.w2.weight", new int[] {dim, ffn});
        }
        m.put("norm.weight", new int[] {dim});
        m.put("output.weight", new int[] {vocab, dim});
        return m;
    }

    /** Total number of weight values. */
    public long parameters(boolean dcmha) {
        long n = 0;
        for (int[] s : tensorShapes(dcmha).values()) {
            n += numel(s);
        }
        return n;
    }

    /**
     * Parameters that take part in a matrix product per token: everything but the embedding table (a
     * lookup) and the norm gains. This is the "params" of the compute floor 2 × params FLOPs per token.
     */
    public long matmulParameters(boolean dcmha) {
        long n = 0;
        for (var e : tensorShapes(dcmha).entrySet()) {
            if (e.getValue().length > 1 && !e.getKey().equals("tok_embeddings.weight")) {
                n += numel(e.getValue());
            }
        }
        return n;
    }

    /** Bytes of all weights in {@link #weightDType}. */
    public long weightBytes(boolean dcmha) {
        return parameters(dcmha) * weightDType.byteSize();
    }

    /**
     * Weight bytes one decode step has to read: every weight except the embedding table, of which one row
     * is read.
     */
    public long decodeBytesPerToken(boolean dcmha) {
        return (parameters(dcmha) - (long) vocab * dim + dim) * weightDType.byteSize();
    }

    /**
     * Bytes of keys and values a decode step at context {@code context} reads: per layer the attended keys
     * (at most W on a local layer) times K and V of E floats (the CPU backend caches F32). The DCMHA key-side
     * compose state (C·N floats a key against 2E) is left out: about 3 % of the cache at these shapes.
     */
    public long kvBytesPerStep(int context) {
        long keys = 0;
        for (int l = 0; l < layers; l++) {
            keys += isGlobal(l) ? context : Math.min(context, window);
        }
        return keys * 2L * dim * Float.BYTES;
    }

    /** Everything a decode step at {@code context} must read: {@link #decodeBytesPerToken} plus the cache. */
    public long decodeBytesPerStep(boolean dcmha, int context) {
        return decodeBytesPerToken(dcmha) + kvBytesPerStep(context);
    }

    /**
     * Matrix-product FLOPs of a prefill of {@code t} tokens, counting the work actually done: every projection
     * (and the dynamic-weight matmuls) for each token, the LM head for the last token only (prefill returns the
     * last position's logits), and the causal attention products QKᵀ and PV (2E FLOPs each per query-key pair,
     * at most W keys on a local layer). Element-wise work, norms and the compose itself are not counted.
     */
    public double prefillFlops(boolean dcmha, int t) {
        long head = (long) vocab * dim;
        double projections = 2.0 * (matmulParameters(dcmha) - head) * t + 2.0 * head;
        double pairs = 0;
        for (int l = 0; l < layers; l++) {
            for (int q = 0; q < t; q++) {
                pairs += isGlobal(l) ? q + 1 : Math.min(q + 1, window);
            }
        }
        return projections + 4.0 * dim * pairs;
    }

    /**
     * The prefill GEMM shapes of one layer and the head, as (N, K) of {@code out[T, N] = x[T, K] · w[N, K]ᵀ}.
     */
    public List<int[]> gemmShapes() {
        return List.of(new int[] {3 * dim, dim}, new int[] {dim, dim}, new int[] {ffn, dim}, new int[] {dim, ffn});
    }

    private static long numel(int[] s) {
        long n = 1;
        for (int x : s) {
            n *= x;
        }
        return n;
    }
}
