package io.dcformer4j.backend.cuda.launch;

import static io.dcformer4j.backend.cuda.launch.ArgType.F32;
import static io.dcformer4j.backend.cuda.launch.ArgType.I32;
import static io.dcformer4j.backend.cuda.launch.ArgType.PTR;

import java.util.List;

/**
 * The marshalling table: every kernel of {@code src/main/cuda/*.cu} with its parameters in declaration
 * order. A unit test parses the .cu signatures and checks that this table agrees with them.
 */
public final class Kernels {
    private Kernels() {
    }

    private static final Object[] GEMV = {"w", PTR, "x", PTR, "bias", PTR, "biasType", I32, "y", PTR, "rows", I32,
            "cols", I32};
    private static final Object[] GEMM = {"x", PTR, "w", PTR, "bias", PTR, "biasType", I32, "y", PTR, "M", I32,
            "N", I32, "K", I32};

    /** Decode linear, F32 weights. */
    public static final KernelSpec GEMV_F32 = KernelSpec.of("linear", "gemv_f32", GEMV);
    /** Decode linear, BF16 weights. */
    public static final KernelSpec GEMV_BF16 = KernelSpec.of("linear", "gemv_bf16", GEMV);
    /** Decode linear, F16 weights. */
    public static final KernelSpec GEMV_F16 = KernelSpec.of("linear", "gemv_f16", GEMV);
    /** Decode GEMV with Q8_0 weights (blocks of 32 int8 and an F16 scale). */
    public static final KernelSpec GEMV_Q8 = KernelSpec.of("linear", "gemv_q8", GEMV);
    /** Q8_0 weights widened to F32 for the F32 GEMM of a prefill. */
    public static final KernelSpec DEQUANT_Q8 = KernelSpec.of("linear", "dequant_q8", "w", PTR, "out", PTR, "n", I32);
    /** Prefill linear on tensor cores, BF16 weights. */
    public static final KernelSpec GEMM_TC_BF16 = KernelSpec.of("linear", "gemm_tc_bf16", GEMM);
    /** Prefill linear on tensor cores, F16 weights. */
    public static final KernelSpec GEMM_TC_F16 = KernelSpec.of("linear", "gemm_tc_f16", GEMM);
    /** Prefill linear, F32 weights (FFMA tiles). */
    public static final KernelSpec GEMM_F32 = KernelSpec.of("linear", "gemm_f32", GEMM);

    /** Grouped RMS norm. */
    public static final KernelSpec RMS_NORM = KernelSpec.of("elementwise", "rms_norm",
            "x", PTR, "gain", PTR, "gainType", I32, "out", PTR, "groups", I32, "G", I32, "eps", F32);
    /** LayerNorm. */
    public static final KernelSpec LAYER_NORM = KernelSpec.of("elementwise", "layer_norm",
            "x", PTR, "gain", PTR, "gainType", I32, "bias", PTR, "biasType", I32, "out", PTR, "rows", I32, "E", I32,
            "eps", F32);
    /** Rotary embedding. */
    public static final KernelSpec ROPE = KernelSpec.of("elementwise", "rope",
            "x", PTR, "out", PTR, "invFreq", PTR, "T", I32, "H", I32, "D", I32, "Dr", I32, "startPos", I32);
    /** RoPE with one position per row (a batch of sequences). */
    public static final KernelSpec ROPE_ROWS = KernelSpec.of("elementwise", "rope_rows",
            "x", PTR, "out", PTR, "invFreq", PTR, "positions", PTR, "T", I32, "H", I32, "D", I32, "Dr", I32);
    /** silu(gate) * up. */
    public static final KernelSpec SWIGLU = KernelSpec.of("elementwise", "swiglu",
            "gate", PTR, "up", PTR, "out", PTR, "n", I32);
    /** mgate FFN gating. */
    public static final KernelSpec MGATE = KernelSpec.of("elementwise", "mgate",
            "u", PTR, "gateLogits", PTR, "out", PTR, "T", I32, "F", I32, "Mg", I32);
    /** Exact GELU. */
    public static final KernelSpec GELU = KernelSpec.of("elementwise", "gelu", "x", PTR, "out", PTR, "n", I32);
    /** Element-wise add. */
    public static final KernelSpec ADD = KernelSpec.of("elementwise", "add", "a", PTR, "b", PTR, "out", PTR, "n", I32);
    /** Row softmax. */
    public static final KernelSpec SOFTMAX = KernelSpec.of("elementwise", "softmax",
            "x", PTR, "out", PTR, "rows", I32, "cols", I32);
    /** Embedding lookup. */
    public static final KernelSpec EMBEDDING = KernelSpec.of("elementwise", "embedding",
            "table", PTR, "tableType", I32, "tokens", PTR, "out", PTR, "T", I32, "E", I32);
    /** Float storage conversion. */
    public static final KernelSpec CONVERT = KernelSpec.of("elementwise", "convert",
            "src", PTR, "srcType", I32, "dst", PTR, "dstType", I32, "n", I32);

    /** Dynamic weights, hidden layer and gates. */
    public static final KernelSpec DW_HIDDEN = KernelSpec.of("dynamic_weights", "dw_hidden",
            "a", PTR, "dw1", PTR, "dw1Type", I32, "dd", PTR, "ddType", I32, "hid", PTR, "T", I32, "E", I32,
            "K4", I32, "N4", I32);
    /** Dynamic weights, hidden layer and gates from a projection the caller computed. */
    public static final KernelSpec DW_ACTIVATE = KernelSpec.of("dynamic_weights", "dw_activate",
            "proj", PTR, "hid", PTR, "T", I32, "K4", I32, "N4", I32);
    /** Dynamic weights, low-rank factors. */
    public static final KernelSpec DW_WEIGHTS = KernelSpec.of("dynamic_weights", "dw_weights",
            "hid", PTR, "qkw", PTR, "qkwType", I32, "out", PTR, "T", I32, "K", I32, "N", I32, "I", I32);

    /** Fused two-pass prefill attention. */
    public static final KernelSpec ATTN_PREFILL = KernelSpec.of("attention", "attn_prefill",
            "q", PTR, "k", PTR, "v", PTR, "dyn", PTR, "kcache", PTR, "vcache", PTR, "kwcache", PTR, "spre", PTR,
            "spost", PTR, "swType", I32, "out", PTR, "T", I32, "L", I32, "cap", I32, "N", I32, "D", I32, "I", I32,
            "mode", I32, "window", I32, "scale", F32, "Bt", I32, "Bs", I32);
    /** Decode phase 1: pre-composed logits and per-split softmax partials. */
    public static final KernelSpec ATTN_DECODE_LOGITS = KernelSpec.of("attention", "attn_decode_logits",
            "q", PTR, "k", PTR, "v", PTR, "dyn", PTR, "kcache", PTR, "vcache", PTR, "kwcache", PTR, "sw", PTR,
            "swType", I32, "lbuf", PTR, "part", PTR, "L", I32, "cap", I32, "N", I32, "D", I32, "I", I32,
            "mode", I32, "window", I32, "scale", F32, "chunk", I32);
    /** Decode phase 2: log-sum-exp per head. */
    public static final KernelSpec ATTN_DECODE_LSE = KernelSpec.of("attention", "attn_decode_lse",
            "part", PTR, "lse", PTR, "nsplit", I32, "N", I32);
    /** Decode phase 3: post-compose and partial value sums. */
    public static final KernelSpec ATTN_DECODE_PV = KernelSpec.of("attention", "attn_decode_pv",
            "q", PTR, "k", PTR, "v", PTR, "dyn", PTR, "kcache", PTR, "vcache", PTR, "kwcache", PTR, "sw", PTR,
            "swType", I32, "lbuf", PTR, "lse", PTR, "opart", PTR, "L", I32, "cap", I32, "N", I32, "D", I32,
            "I", I32, "mode", I32, "window", I32, "chunk", I32);
    /** Decode phase 4: sum of the split partials. */
    public static final KernelSpec ATTN_DECODE_REDUCE = KernelSpec.of("attention", "attn_decode_reduce",
            "opart", PTR, "out", PTR, "nsplit", I32, "ND", I32);
    /** Cache append after attending. */
    public static final KernelSpec KV_APPEND = KernelSpec.of("attention", "kv_append",
            "k", PTR, "v", PTR, "dyn", PTR, "kcache", PTR, "vcache", PTR, "kwcache", PTR, "T", I32, "L", I32,
            "cap", I32, "N", I32, "D", I32, "I", I32, "keySide", I32);
    /** Batched decode phase 1: row b = blockIdx.y with its own cache from the row table. */
    public static final KernelSpec ATTN_DECODE_LOGITS_BATCH = KernelSpec.of("attention", "attn_decode_logits_batch",
            "q", PTR, "k", PTR, "v", PTR, "dyn", PTR, "rows", PTR, "sw", PTR, "swType", I32, "lbuf", PTR, "part", PTR,
            "lbufStride", I32, "partStride", I32, "N", I32, "D", I32, "I", I32, "mode", I32, "window", I32,
            "scale", F32);
    /** Batched decode phase 2. */
    public static final KernelSpec ATTN_DECODE_LSE_BATCH = KernelSpec.of("attention", "attn_decode_lse_batch",
            "part", PTR, "lse", PTR, "rows", PTR, "partStride", I32, "N", I32);
    /** Batched decode phase 3. */
    public static final KernelSpec ATTN_DECODE_PV_BATCH = KernelSpec.of("attention", "attn_decode_pv_batch",
            "q", PTR, "k", PTR, "v", PTR, "dyn", PTR, "rows", PTR, "sw", PTR, "swType", I32, "lbuf", PTR, "lse", PTR,
            "opart", PTR, "lbufStride", I32, "opartStride", I32, "N", I32, "D", I32, "I", I32, "mode", I32,
            "window", I32);
    /** Batched decode phase 4. */
    public static final KernelSpec ATTN_DECODE_REDUCE_BATCH = KernelSpec.of("attention", "attn_decode_reduce_batch",
            "opart", PTR, "out", PTR, "rows", PTR, "opartStride", I32, "ND", I32);
    /** Each row of a batch appends its fresh position to its own cache. */
    public static final KernelSpec KV_APPEND_BATCH = KernelSpec.of("attention", "kv_append_batch",
            "k", PTR, "v", PTR, "dyn", PTR, "rows", PTR, "N", I32, "D", I32, "I", I32, "keySide", I32);

    /** Unfused baseline: the materialised [N][T][T] scaled logits. */
    public static final KernelSpec UNFUSED_LOGITS = KernelSpec.of("attention", "unfused_logits",
            "q", PTR, "k", PTR, "lg", PTR, "T", I32, "N", I32, "D", I32, "window", I32, "scale", F32);
    /** Unfused baseline: compose every visible column of the [N][T][T] tensor. */
    public static final KernelSpec UNFUSED_COMPOSE = KernelSpec.of("attention", "unfused_compose",
            "a", PTR, "dyn", PTR, "sw", PTR, "swType", I32, "scratch", PTR, "T", I32, "N", I32, "I", I32, "mode", I32,
            "window", I32, "post", I32);
    /** Unfused baseline: masked softmax of every (head, query) row. */
    public static final KernelSpec UNFUSED_SOFTMAX = KernelSpec.of("attention", "unfused_softmax",
            "a", PTR, "T", I32, "N", I32, "window", I32);
    /** Unfused baseline: probabilities times values. */
    public static final KernelSpec UNFUSED_PV = KernelSpec.of("attention", "unfused_pv",
            "p", PTR, "v", PTR, "out", PTR, "T", I32, "N", I32, "D", I32, "window", I32);

    /** Every kernel, in module order. */
    public static List<KernelSpec> all() {
        return List.of(GEMV_F32, GEMV_BF16, GEMV_F16, GEMV_Q8, DEQUANT_Q8, GEMM_TC_BF16, GEMM_TC_F16, GEMM_F32,
                RMS_NORM, LAYER_NORM, ROPE, ROPE_ROWS, SWIGLU, MGATE, GELU, ADD, SOFTMAX, EMBEDDING, CONVERT,
                DW_HIDDEN, DW_ACTIVATE, DW_WEIGHTS,
                ATTN_PREFILL, ATTN_DECODE_LOGITS, ATTN_DECODE_LOGITS_BATCH, ATTN_DECODE_LSE, ATTN_DECODE_LSE_BATCH,
                ATTN_DECODE_PV, ATTN_DECODE_PV_BATCH, ATTN_DECODE_REDUCE, ATTN_DECODE_REDUCE_BATCH, KV_APPEND,
                KV_APPEND_BATCH, UNFUSED_LOGITS, UNFUSED_COMPOSE, UNFUSED_SOFTMAX, UNFUSED_PV);
    }

    /** The PTX module names (one per .cu file). */
    public static List<String> modules() {
        return all().stream().map(KernelSpec::module).distinct().toList();
    }
}
