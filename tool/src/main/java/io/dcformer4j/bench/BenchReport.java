package io.dcformer4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;

/** Renders a {@link BenchResult} as one JSON object or as a human-readable table. */
public final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private BenchReport() {
    }

    /** The JSON tree (snake_case field names; rates per second, sizes in bytes). */
    public static ObjectNode toJsonTree(BenchResult r) {
        BenchPreset p = r.preset();
        ObjectNode o = JSON.createObjectNode();
        o.put("preset", p.name());
        o.put("backend", r.backend());
        o.put("threads", r.threads());
        ObjectNode model = o.putObject("model");
        model.put("dim", p.dim());
        model.put("heads", p.heads());
        model.put("layers", p.layers());
        model.put("ffn", p.ffn());
        model.put("vocab", p.vocab());
        model.put("window", p.window());
        model.put("window_type", BenchPreset.WINDOW_TYPE);
        model.put("weight_dtype", p.weightDType().name());
        model.put("parameters", p.parameters(true));
        model.put("mha_parameters", p.parameters(false));
        model.put("matmul_parameters", p.matmulParameters(true));
        model.put("weight_bytes", p.weightBytes(true));
        model.put("decode_weight_bytes_per_token", p.decodeBytesPerToken(true));
        model.put("mha_decode_weight_bytes_per_token", p.decodeBytesPerToken(false));

        putMap(o, "prefill_tokens_per_s", r.dcmha().prefillTokensPerS());
        putMap(o, "decode_tokens_per_s", r.dcmha().decodeTokensPerS());
        putMap(o, "mha_prefill_tokens_per_s", r.mha().prefillTokensPerS());
        putMap(o, "mha_decode_tokens_per_s", r.mha().decodeTokensPerS());
        o.put("bandwidth_gb_per_s", r.bandwidthGbPerS());
        o.put("gemm_gflops", r.gemmGflops());
        o.put("fma_peak_gflops", r.fmaPeakGflops());
        o.put("compute_limit_gflops", r.computeLimitGflops());
        o.put("compute_limit", r.computeLimitSource());
        putGemm(o, "gemm", r.gemm());
        o.put("decode_floor_tokens_per_s", r.decodeFloorTokensPerS());
        o.put("mha_decode_floor_tokens_per_s", r.mhaDecodeFloorTokensPerS());
        putMap(o, "decode_floor_with_cache_tokens_per_s", map(r.dcmha().decodeTokensPerS(), r::decodeFloorTokensPerS));
        putMap(o, "prefill_floor_tokens_per_s", map(r.dcmha().prefillTokensPerS(), r::prefillFloorTokensPerS));

        ObjectNode ratios = o.putObject("ratios");
        putMap(ratios, "decode_vs_floor", r.decodeVsFloor());
        putMap(ratios, "prefill_vs_floor", r.prefillVsFloor());
        putMap(ratios, "dcmha_prefill_overhead", r.prefillOverhead());
        putMap(ratios, "dcmha_decode_overhead", r.decodeOverhead());
        putNumber(ratios, "gemm_vs_blas", r.blas().ratio());
        putNumber(ratios, "rss_vs_weights_and_caches", r.residentVsWeightsAndCaches());
        putNumber(ratios, "peak_rss_vs_weights_and_caches", r.peakResidentVsWeightsAndCaches());

        ObjectNode blas = o.putObject("blas");
        blas.put("available", r.blas().available());
        blas.put("note", r.blas().note());
        if (r.blas().available()) {
            blas.put("library", r.blas().library().toString());
            putGemm(blas, "cblas_sgemm", r.blas().blas());
            putGemm(blas, "ours_f32", r.blas().ours());
        }

        if (r.batch() != null) {
            BatchTiming bt = r.batch();
            o.put("batch_context", bt.context());
            putMap(o, "batch_decode_tokens_per_s", bt.tokensPerS());
            putMap(o, "batch_step_latency_ms", bt.stepLatencyMs());
            putMap(ratios, "batch_throughput_vs_1", bt.throughputVsSingle());
            putMap(ratios, "batch_latency_vs_1", bt.latencyVsSingle());
        }

        ObjectNode mem = o.putObject("memory");
        mem.put("rss_bytes", r.dcmha().residentBytes());
        mem.put("peak_rss_bytes", r.dcmha().peakResidentBytes());
        mem.put("weight_bytes_both_models", r.residentWeightBytes());
        mem.put("backend_bytes", r.dcmha().backendBytes());
        return o;
    }

    /** The JSON text. */
    public static String toJson(BenchResult r) {
        try {
            return JSON.writeValueAsString(toJsonTree(r));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("bench: cannot write the JSON report", e);
        }
    }

    private static SortedMap<Integer, Double> map(SortedMap<Integer, Double> keys, java.util.function.IntToDoubleFunction f) {
        SortedMap<Integer, Double> m = new java.util.TreeMap<>();
        keys.keySet().forEach(k -> m.put(k, f.applyAsDouble(k)));
        return m;
    }

    /** A table for people. */
    public static String toTable(BenchResult r) {
        BenchPreset p = r.preset();
        StringBuilder b = new StringBuilder();
        line(b, "preset %s: E=%d N=%d L=%d F=%d V=%d, LGLL W=%d, qk-norm, %s weights (%.1f M params, %.0f MB)",
                p.name(), p.dim(), p.heads(), p.layers(), p.ffn(), p.vocab(), p.window(), p.weightDType(),
                p.parameters(true) / 1e6, p.weightBytes(true) / 1e6);
        line(b, "backend: %s, %d threads", r.backend(), r.threads());
        line(b, "");
        line(b, "limits");
        line(b, "  memory bandwidth (streaming read)   %8.1f GB/s", r.bandwidthGbPerS());
        line(b, "  best GEMM (%s linear, prefill)     %8.1f GFLOP/s", p.weightDType(), r.gemmGflops());
        for (GemmResult g : r.gemm()) {
            line(b, "    %-26s %8.1f GFLOP/s", g.shape(), g.gflops());
        }
        line(b, "  FMA peak                            %8.1f GFLOP/s", r.fmaPeakGflops());
        line(b, "  %-35s %8.1f GFLOP/s", "compute limit (" + r.computeLimitSource() + ")", r.computeLimitGflops());
        line(b, "  %-35s %8.2f tokens/s (MHA %.2f)", String.format(Locale.ROOT, "decode floor, weights (%.0f MB)",
                p.decodeBytesPerToken(true) / 1e6), r.decodeFloorTokensPerS(), r.mhaDecodeFloorTokensPerS());
        for (int c : r.dcmha().decodeTokensPerS().keySet()) {
            line(b, "  %-35s %8.2f tokens/s", String.format(Locale.ROOT, "  after %d (+ %.0f MB K/V)", c,
                    p.kvBytesPerStep(c) / 1e6), r.decodeFloorTokensPerS(c));
        }
        for (int t : r.dcmha().prefillTokensPerS().keySet()) {
            line(b, "  %-35s %8.1f tokens/s", String.format(Locale.ROOT, "prefill floor T=%d (%.2f GFLOP/tok)", t,
                    p.prefillFlops(true, t) / t / 1e9), r.prefillFloorTokensPerS(t));
        }
        line(b, "");
        line(b, "%-22s %12s %12s %10s %10s", "", "DCMHA tok/s", "MHA tok/s", "overhead", "vs floor");
        for (var e : r.dcmha().prefillTokensPerS().entrySet()) {
            int t = e.getKey();
            line(b, "%-22s %12.2f %12.2f %9.1f%% %9.1f%%", "prefill T=" + t, e.getValue(),
                    r.mha().prefillTokensPerS().getOrDefault(t, Double.NaN), 100 * r.prefillOverhead().getOrDefault(t, Double.NaN),
                    100 * r.prefillVsFloor().get(t));
        }
        for (var e : r.dcmha().decodeTokensPerS().entrySet()) {
            int c = e.getKey();
            line(b, "%-22s %12.2f %12.2f %9.1f%% %9.1f%%", "decode after " + c, e.getValue(),
                    r.mha().decodeTokensPerS().getOrDefault(c, Double.NaN), 100 * r.decodeOverhead().getOrDefault(c, Double.NaN),
                    100 * r.decodeVsFloor().get(c));
        }
        line(b, "");
        if (r.batch() != null) {
            BatchTiming bt = r.batch();
            line(b, "batched decode (DCMHA, B sequences after %d tokens each, one step for all; median of %d steps)",
                    bt.context(), bt.steps());
            line(b, "%-22s %12s %12s %12s %12s %10s", "", "agg tok/s", "x batch 1", "step ms", "x batch 1", "vs floor");
            for (int size : bt.stepSeconds().keySet()) {
                line(b, "%-22s %12.2f %12.2f %12.1f %12.2f %9.1f%%", "batch " + size, bt.tokensPerS().get(size),
                        bt.throughputVsSingle().get(size), bt.stepLatencyMs().get(size), bt.latencyVsSingle().get(size),
                        100 * bt.tokensPerS().get(size) / size / r.decodeFloorTokensPerS());
            }
            line(b, "  (vs floor: one sequence's share of the step against the bandwidth floor of one weight read per token)");
            line(b, "");
        }
        if (r.blas().available()) {
            line(b, "GEMM vs OpenBLAS, F32 weights: %s", r.blas().note());
            for (int i = 0; i < r.blas().blas().size(); i++) {
                GemmResult theirs = r.blas().blas().get(i);
                GemmResult ours = r.blas().ours().get(i);
                line(b, "  %-26s ours %7.1f  OpenBLAS %7.1f GFLOP/s  ratio %5.2f", theirs.shape(), ours.gflops(),
                        theirs.gflops(), ours.gflops() / theirs.gflops());
            }
            line(b, "  all shapes together: ours = %.2f x OpenBLAS", r.blas().ratio());
        } else {
            line(b, "GEMM vs OpenBLAS: %s", r.blas().note());
        }
        line(b, "memory (DCMHA and MHA models resident together): RSS %.0f MB = %.2f x (weights %.0f MB + backend %.0f MB);"
                + " peak RSS %.0f MB = %.2f x",
                r.dcmha().residentBytes() / 1e6, r.residentVsWeightsAndCaches(), r.residentWeightBytes() / 1e6,
                r.dcmha().backendBytes() / 1e6, r.dcmha().peakResidentBytes() / 1e6, r.peakResidentVsWeightsAndCaches());
        return b.toString();
    }

    private static void line(StringBuilder b, String fmt, Object... args) {
        b.append(String.format(Locale.ROOT, fmt, args)).append('\n');
    }

    private static void putMap(ObjectNode o, String field, SortedMap<Integer, Double> m) {
        ObjectNode n = o.putObject(field);
        for (Map.Entry<Integer, Double> e : m.entrySet()) {
            putNumber(n, Integer.toString(e.getKey()), e.getValue());
        }
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
        }
    }

    private static void putGemm(ObjectNode o, String field, List<GemmResult> list) {
        var arr = o.putArray(field);
        for (GemmResult g : list) {
            ObjectNode n = arr.addObject();
            n.put("m", g.shape().m());
            n.put("n", g.shape().n());
            n.put("k", g.shape().k());
            n.put("weights", g.weights().name());
            n.put("gflops", g.gflops());
        }
    }
}
