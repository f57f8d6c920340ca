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
 * @param fmaPeakGflops  the single-precision FMA peak of the worker threads (GFLOP/s), the compute limit
 *                       when OpenBLAS was not measured
 * @param gemm           our {@code linear} at the prefill shapes with the preset's weight dtype
 * @param blas           the OpenBLAS comparison (possibly skipped)
 * @param dcmha          DCFormer++ timings
 * @param mha            plain-MHA baseline timings
 * @param batch          batched decode timings, or {@code null} when not measured
 */
public record BenchResult(BenchPreset preset, String backend, int threads, double bandwidthGbPerS,
                          double fmaPeakGflops, List<GemmResult> gemm, BlasComparison blas, ModelTiming dcmha, ModelTiming mha, BatchTiming batch) {
    /** Freezes the list. */
    public BenchResult {
        gemm = List.copyOf(gemm);
    }

    /** A result without a batched decode measurement. */
    public BenchResult(BenchPreset preset, String backend, int threads, double bandwidthGbPerS, double fmaPeakGflops,
                       List<GemmResult> gemm, BlasComparison blas, ModelTiming dcmha, ModelTiming mha) {
        this(preset, backend, threads, bandwidthGbPerS, fmaPeakGflops, gemm, blas, dcmha, mha, null);
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

    /**
     * The decode floor at a context: the measured bandwidth over every byte a step must read there, the weights
     * and the keys and values it attends to ({@link BenchPreset#decodeBytesPerStep}).
     */
    public double decodeFloorTokensPerS(int context) {
        return bandwidthGbPerS * 1e9 / preset.decodeBytesPerStep(true, context);
    }

    /**
     * The compute limit of a prefill (GFLOP/s): OpenBLAS's best {@code cblas_sgemm} rate at the prefill shapes
     * when it was measured, else the FMA peak. Never our own GEMM's rate: a floor must come from the machine.
     */
    public double computeLimitGflops() {
        if (blas.available()) {
            return blas.blas().stream().mapToDouble(GemmResult::gflops).max().orElse(fmaPeakGflops);
        }
        return fmaPeakGflops;
    }

    /** What {@link #computeLimitGflops()} is. */
    public String computeLimitSource() {
        return blas.available() ? "OpenBLAS cblas_sgemm" : "FMA peak";
    }

    /** Prefill speed of {@code t} tokens at the compute limit over the work actually done ({@link BenchPreset#prefillFlops}). */
    public double prefillFloorTokensPerS(int t) {
        return computeLimitGflops() * 1e9 * t / preset.prefillFlops(true, t);
    }

    /** Measured decode speed ÷ the floor at that context, weights and cache ({@link #decodeFloorTokensPerS(int)}). */
    public SortedMap<Integer, Double> decodeVsFloor() {
        SortedMap<Integer, Double> r = new TreeMap<>();
        dcmha.decodeTokensPerS().forEach((c, v) -> r.put(c, v / decodeFloorTokensPerS(c)));
        return r;
    }

    /** Measured prefill speed ÷ the compute floor, per T (DCMHA). */
    public SortedMap<Integer, Double> prefillVsFloor() {
        SortedMap<Integer, Double> r = new TreeMap<>();
        dcmha.prefillTokensPerS().forEach((t, v) -> r.put(t, v / prefillFloorTokensPerS(t)));
        return r;
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
