package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dcformer4j.api.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Floors and ratios computed from hand-made measurements. */
class BenchResultTest {

    static BenchResult sample(BlasComparison blas) {
        BenchPreset p = BenchPreset.SMALL;
        List<GemmResult> gemm = List.of(new GemmResult(new GemmShape(512, 1536, 512), DType.BF16, 80),
                new GemmResult(new GemmShape(512, 512, 512), DType.BF16, 100),
                new GemmResult(new GemmShape(512, 1408, 512), DType.BF16, 90));
        ModelTiming dcmha = new ModelTiming(new TreeMap<>(Map.of(128, 1000.0, 512, 800.0)),
                new TreeMap<>(Map.of(512, 40.0, 2048, 30.0)), 50_000_000L, 600_000_000L, 900_000_000L);
        ModelTiming mha = new ModelTiming(new TreeMap<>(Map.of(128, 1100.0, 512, 1000.0)),
                new TreeMap<>(Map.of(512, 44.0, 2048, 33.0)), 40_000_000L, 550_000_000L, 800_000_000L);
        return new BenchResult(p, "test backend", 2, 20.0, 250.0, gemm, blas, dcmha, mha);
    }

    @Test
    void floorsFollowFromBandwidthAndTheMachinesComputeLimitNeverOurGemm() {
        BenchResult r = sample(BlasComparison.skipped("not requested"));
        BenchPreset p = r.preset();
        assertThat(r.gemmGflops()).isEqualTo(100);
        assertThat(r.decodeFloorTokensPerS()).isCloseTo(20e9 / p.decodeBytesPerToken(true), within(1e-9));
        assertThat(r.mhaDecodeFloorTokensPerS()).isCloseTo(20e9 / p.decodeBytesPerToken(false), within(1e-9));
        assertThat(r.decodeFloorTokensPerS(2048)).isCloseTo(20e9 / (p.decodeBytesPerToken(true) + p.kvBytesPerStep(2048)),
                within(1e-9));
        // Without OpenBLAS the limit is the FMA peak (250), not our GEMM (100).
        assertThat(r.computeLimitGflops()).isEqualTo(250);
        assertThat(r.computeLimitSource()).isEqualTo("FMA peak");
        assertThat(r.prefillFloorTokensPerS(512)).isCloseTo(250e9 * 512 / p.prefillFlops(true, 512), within(1e-6));
        BenchResult withBlas = sample(new BlasComparison(Path.of("/lib/libopenblas.so.0"), "test",
                List.of(new GemmResult(new GemmShape(512, 512, 512), DType.F32, 180),
                        new GemmResult(new GemmShape(512, 1536, 512), DType.F32, 200)),
                List.of(new GemmResult(new GemmShape(512, 512, 512), DType.F32, 90),
                        new GemmResult(new GemmShape(512, 1536, 512), DType.F32, 100))));
        assertThat(withBlas.computeLimitGflops()).isEqualTo(200);
        assertThat(withBlas.computeLimitSource()).isEqualTo("OpenBLAS cblas_sgemm");
    }

    @Test
    void prefillWorkCountsTheHeadOnceAndTheCausalAttention() {
        BenchPreset p = BenchPreset.TINY; // E 64, V 256, 4 layers LGLL, W 8
        long head = 256L * 64;
        double projections = 2.0 * (p.matmulParameters(true) - head) * 10 + 2.0 * head;
        // T = 10: a global layer sees 1 + 2 + ... + 10 = 55 pairs, a local one (W 8) 36 + 8 + 8 = 52
        double pairs = 55 + 3 * 52;
        assertThat(p.prefillFlops(true, 10)).isEqualTo(projections + 4.0 * 64 * pairs);
        // Decode K/V: 1 global layer at 100 keys, 3 local at 8, K and V of 64 floats.
        assertThat(p.kvBytesPerStep(100)).isEqualTo((100 + 3 * 8) * 2L * 64 * 4);
    }

    @Test
    void ratiosAreMeasuredOverFloorAndDcmhaTimeOverMhaTime() {
        BenchResult r = sample(BlasComparison.skipped("not requested"));
        assertThat(r.decodeVsFloor().get(512)).isCloseTo(40 / r.decodeFloorTokensPerS(512), within(1e-12));
        assertThat(r.prefillVsFloor().get(128)).isCloseTo(1000 / r.prefillFloorTokensPerS(128), within(1e-12));
        assertThat(r.prefillOverhead().get(128)).isCloseTo(0.1, within(1e-12));
        assertThat(r.prefillOverhead().get(512)).isCloseTo(0.25, within(1e-12));
        assertThat(r.decodeOverhead().get(512)).isCloseTo(0.1, within(1e-12));
        assertThat(r.decodeOverhead().get(2048)).isCloseTo(0.1, within(1e-12));
        assertThat(r.residentVsWeightsAndCaches())
                .isCloseTo(600e6 / (r.preset().weightBytes(true) + r.preset().weightBytes(false) + 50e6), within(1e-12));
        assertThat(r.peakResidentVsWeightsAndCaches())
                .isCloseTo(900e6 / (r.preset().weightBytes(true) + r.preset().weightBytes(false) + 50e6), within(1e-12));
        assertThat(r.blas().ratio()).isNaN();
    }

    @Test
    void blasRatioWeighsShapesByTheirTime() {
        GemmShape big = new GemmShape(512, 2048, 2048);
        GemmShape small = new GemmShape(512, 512, 512);
        BlasComparison c = new BlasComparison(Path.of("/lib/libopenblas.so.0"), "test",
                List.of(new GemmResult(big, DType.F32, 100), new GemmResult(small, DType.F32, 100)),
                List.of(new GemmResult(big, DType.F32, 50), new GemmResult(small, DType.F32, 100)));
        double theirs = big.flops() / 100e9 + small.flops() / 100e9;
        double ours = big.flops() / 50e9 + small.flops() / 100e9;
        assertThat(c.available()).isTrue();
        assertThat(c.ratio()).isCloseTo(theirs / ours, within(1e-12));
    }
}
