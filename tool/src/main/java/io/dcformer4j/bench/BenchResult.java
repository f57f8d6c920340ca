package io.dcformer4j.bench;

import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything one {@code bench} run measured, and the floors and ratios derived from it (all figures of one
 * run on one machine, so the ratios hold on a noisy machine).
 *
 * @param preset         the model shape
 * @param backend        the backend's description
 * @param threads        worker threads of the backend and of the probes
 * @param bandwidthGbPerS streaming-read bandwidth, GB/s
 * @param gemm           our {@code linear} at the prefill shapes with the preset's weight dtype
 * @param blas           the OpenBLAS comparison (possibly skipped)
 * @param dcmha          DCFormer++ timings
 * @param mha            plain-MHA baseline timings
 * @param batch          batched decode timings, or {@code null} when not measured
 */
public record BenchResult(BenchPreset preset, String backend, int threads, double bandwidthGbPerS,
                          List<GemmResult> gemm, BlasComparison blas, ModelTiming dcmha, ModelTiming mha, BatchTiming batch) {
    /** Freezes the list. */
    public BenchResult {
        gemm = List.copyOf(gemm);
    }

    /** A result without a batched decode measurement. */
    public BenchResult(BenchPreset preset, String backend, int threads, double bandwidthGbPerS, List<GemmResult> gemm,
                       BlasComparison blas, ModelTiming dcmha, ModelTiming mha) {
        this(preset, backend, threads, bandwidthGbPerS, gemm, blas, dcmha, mha, null);
    }

    /** The backend's best GEMM rate over the prefill shapes (GFLOP/s). */
    public double gemmGflops() {
        return gemm.stream().max(Comparator.comparingDouble(GemmResult::gflops)).map(GemmResult::gflops).orElse(Double.NaN);
    }

    /** Decode speed if every step only had to stream the DCMHA model's weights at the measured bandwidth. */
    public double decodeFloorTokensPerS() {
        return bandwidthGbPerS * 1e9 / preset.decodeBytesPerToken(true);
    }

    /** The same bandwidth floor for the plain-MHA baseline (fewer weight bytes). */
    public double mhaDecodeFloorTokensPerS() {
        return bandwidthGbPerS * 1e9 / preset.decodeBytesPerToken(false);
    }

    /** Prefill speed if every token cost 2 × matmul parameters FLOPs at the best GEMM rate (DCMHA model). */
    public double prefillFloorTokensPerS() {
        return gemmGflops() * 1e9 / (2.0 * preset.matmulParameters(true));
    }

    /** Measured decode speed ÷ the bandwidth floor, per context (DCMHA). */
    public SortedMap<Integer, Double> decodeVsFloor() {
        return scale(dcmha.decodeTokensPerS(), 1 / decodeFloorTokensPerS());
    }

    /** Measured prefill speed ÷ the compute floor, per T (DCMHA). */
    public SortedMap<Integer, Double> prefillVsFloor() {
        return scale(dcmha.prefillTokensPerS(), 1 / prefillFloorTokensPerS());
    }

    /** Extra time of DCMHA over plain MHA in prefill, per T: t_DCMHA / t_MHA − 1. */
    public SortedMap<Integer, Double> prefillOverhead() {
        return overhead(dcmha.prefillTokensPerS(), mha.prefillTokensPerS());
    }

    /** Extra time of DCMHA over plain MHA per decode step, per context. */
    public SortedMap<Integer, Double> decodeOverhead() {
        return overhead(dcmha.decodeTokensPerS(), mha.decodeTokensPerS());
    }

    /** Weight bytes of both models, which are resident together during a run. */
    public long residentWeightBytes() {
        return preset.weightBytes(true) + preset.weightBytes(false);
    }

    /** Resident set ÷ (weight bytes of both models + backend bytes) at the longest context. */
    public double residentVsWeightsAndCaches() {
        if (dcmha.residentBytes() < 0) {
            return Double.NaN;
        }
        return (double) dcmha.residentBytes() / (residentWeightBytes() + dcmha.backendBytes());
    }

    /** Peak resident set of the models' run ÷ (weight bytes of both models + backend bytes). */
    public double peakResidentVsWeightsAndCaches() {
        if (dcmha.peakResidentBytes() < 0) {
            return Double.NaN;
        }
        return (double) dcmha.peakResidentBytes() / (residentWeightBytes() + dcmha.backendBytes());
    }

    private static SortedMap<Integer, Double> scale(SortedMap<Integer, Double> m, double f) {
        SortedMap<Integer, Double> r = new TreeMap<>();
        m.forEach((k, v) -> r.put(k, v * f));
        return r;
    }

    private static SortedMap<Integer, Double> overhead(SortedMap<Integer, Double> dcmhaRate, SortedMap<Integer, Double> mhaRate) {
        SortedMap<Integer, Double> r = new TreeMap<>();
        dcmhaRate.forEach((k, v) -> {
            Double base = mhaRate.get(k);
            if (base != null) {
                r.put(k, base / v - 1);
            }
        });
        return r;
    }
}
