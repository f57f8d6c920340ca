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
        return new BenchResult(p, "test backend", 2, 20.0, gemm, blas, dcmha, mha);
    }

    @Test
    void floorsFollowFromBandwidthAndGemmRate() {
        BenchResult r = sample(BlasComparison.skipped("not requested"));
        BenchPreset p = r.preset();
        assertThat(r.gemmGflops()).isEqualTo(100);
        assertThat(r.decodeFloorTokensPerS()).isCloseTo(20e9 / p.decodeBytesPerToken(true), within(1e-9));
        assertThat(r.mhaDecodeFloorTokensPerS()).isCloseTo(20e9 / p.decodeBytesPerToken(false), within(1e-9));
        assertThat(r.prefillFloorTokensPerS()).isCloseTo(100e9 / (2.0 * p.matmulParameters(true)), within(1e-9));
    }

    @Test
    void ratiosAreMeasuredOverFloorAndDcmhaTimeOverMhaTime() {
        BenchResult r = sample(BlasComparison.skipped("not requested"));
        assertThat(r.decodeVsFloor().get(512)).isCloseTo(40 / r.decodeFloorTokensPerS(), within(1e-12));
        assertThat(r.prefillVsFloor().get(128)).isCloseTo(1000 / r.prefillFloorTokensPerS(), within(1e-12));
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
