package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.api.DType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The JSON object carries the fields the performance targets are stated in, with the values of the result; the table names every figure. */
class BenchReportTest {

    @Test
    void jsonHasEveryRequiredFieldWithTheComputedValues() throws Exception {
        BenchResult r = BenchResultTest.sample(BlasComparison.skipped("OpenBLAS not found (looked for [/nowhere])"));
        JsonNode j = new ObjectMapper().readTree(BenchReport.toJson(r));
        assertThat(j.get("prefill_tokens_per_s").get("128").asDouble()).isEqualTo(1000.0);
        assertThat(j.get("decode_tokens_per_s").get("2048").asDouble()).isEqualTo(30.0);
        assertThat(j.get("mha_prefill_tokens_per_s").get("512").asDouble()).isEqualTo(1000.0);
        assertThat(j.get("mha_decode_tokens_per_s").get("512").asDouble()).isEqualTo(44.0);
        assertThat(j.get("bandwidth_gb_per_s").asDouble()).isEqualTo(20.0);
        assertThat(j.get("gemm_gflops").asDouble()).isEqualTo(100.0);
        assertThat(j.get("decode_floor_tokens_per_s").asDouble()).isCloseTo(r.decodeFloorTokensPerS(), within(1e-9));
        assertThat(j.get("prefill_floor_tokens_per_s").get("512").asDouble()).isCloseTo(r.prefillFloorTokensPerS(512), within(1e-9));
        assertThat(j.get("decode_floor_with_cache_tokens_per_s").get("2048").asDouble())
                .isCloseTo(r.decodeFloorTokensPerS(2048), within(1e-9));
        assertThat(j.get("compute_limit").asText()).isEqualTo("FMA peak");
        assertThat(j.get("fma_peak_gflops").asDouble()).isEqualTo(250.0);
        JsonNode ratios = j.get("ratios");
        assertThat(ratios.get("decode_vs_floor").get("512").asDouble()).isCloseTo(r.decodeVsFloor().get(512), within(1e-12));
        assertThat(ratios.get("prefill_vs_floor").get("512").asDouble()).isCloseTo(r.prefillVsFloor().get(512), within(1e-12));
        assertThat(ratios.get("dcmha_prefill_overhead").get("512").asDouble()).isCloseTo(0.25, within(1e-12));
        assertThat(ratios.get("dcmha_decode_overhead").get("2048").asDouble()).isCloseTo(0.1, within(1e-12));
        assertThat(ratios.get("gemm_vs_blas").isNull()).isTrue();
        assertThat(ratios.get("rss_vs_weights_and_caches").asDouble()).isCloseTo(r.residentVsWeightsAndCaches(), within(1e-12));
        assertThat(ratios.get("peak_rss_vs_weights_and_caches").asDouble())
                .isCloseTo(r.peakResidentVsWeightsAndCaches(), within(1e-12));
        assertThat(j.get("memory").get("peak_rss_bytes").asLong()).isEqualTo(900_000_000L);
        assertThat(j.get("blas").get("available").asBoolean()).isFalse();
        assertThat(j.get("blas").get("note").asText()).contains("not found");
        assertThat(j.get("gemm")).hasSize(3);
        assertThat(j.get("model").get("weight_bytes").asLong()).isEqualTo(BenchPreset.SMALL.weightBytes(true));
        assertThat(j.get("memory").get("weight_bytes_both_models").asLong())
                .isEqualTo(BenchPreset.SMALL.weightBytes(true) + BenchPreset.SMALL.weightBytes(false));
    }

    @Test
    void jsonCarriesTheBlasComparisonWhenItRan() throws Exception {
        GemmShape s = new GemmShape(512, 512, 512);
        BlasComparison c = new BlasComparison(Path.of("/x/libopenblas.so.0"), "found",
                List.of(new GemmResult(s, DType.F32, 120)), List.of(new GemmResult(s, DType.F32, 90)));
        JsonNode j = new ObjectMapper().readTree(BenchReport.toJson(BenchResultTest.sample(c)));
        assertThat(j.get("ratios").get("gemm_vs_blas").asDouble()).isCloseTo(0.75, within(1e-12));
        assertThat(j.get("blas").get("library").asText()).isEqualTo("/x/libopenblas.so.0");
        assertThat(j.get("blas").get("cblas_sgemm").get(0).get("gflops").asDouble()).isEqualTo(120.0);
    }

    @Test
    void tableShowsLimitsSpeedsAndRatios() {
        String t = BenchReport.toTable(BenchResultTest.sample(BlasComparison.skipped("OpenBLAS not found here")));
        assertThat(t).contains("memory bandwidth", "20.0 GB/s", "prefill T=128", "decode after 2048", "OpenBLAS not found here",
                "25.0%");
    }
}
