package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.Session;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The measurement plan is carried out as specified, on a recording fake and on the real model at toy size. */
class BenchEngineTest {
    private static final List<Path> NO_BLAS = List.of(Path.of("/nonexistent/libopenblas.so.0"));

    private static BenchOptions tinyOptions(List<String> progress) {
        return BenchOptions.standard(BenchPreset.TINY, true, true, progress::add)
                .withLengths(List.of(8, 16), List.of(8, 32), 3)
                .withProbes(4L << 20, 0.001)
                .withBlas(true, NO_BLAS);
    }

    /** Records every call; calls cost nothing. */
    private static final class Recorder implements BenchModelFactory {
        final List<String> calls = new ArrayList<>();

        @Override
        public BenchModel open(BenchPreset preset, boolean dcmha, Backend backend, long seed) {
            String kind = dcmha ? "dcmha" : "mha";
            calls.add(kind + " open");
            return new BenchModel() {
                @Override
                public Sequence newSequence() {
                    return new Sequence() {
                        @Override
                        public void prefill(int[] tokens) {
                            for (int t : tokens) {
                                assertThat(t).isBetween(0, preset.vocab() - 1);
                            }
                            calls.add(kind + " prefill " + tokens.length);
                        }

                        @Override
                        public void decode(int token) {
                            calls.add(kind + " decode");
                        }

                        @Override
                        public void close() {
                        }
                    };
                }

                @Override
                public void close() {
                    calls.add(kind + " close");
                }
            };
        }
    }

    @Test
    void runsEveryPrefillLengthAndDecodeContextForBothModels() {
        Recorder rec = new Recorder();
        List<String> progress = new ArrayList<>();
        BenchResult r;
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(2))) {
            r = new BenchEngine(tinyOptions(progress), b, rec).run();
            assertThat(b.liveTensors()).isZero();
        }
        // both open, each warmed up, then every measurement alternates DCMHA and MHA
        assertThat(rec.calls.subList(0, 8)).containsExactly("dcmha open", "mha open", "dcmha prefill 8", "dcmha decode",
                "dcmha decode", "mha prefill 8", "mha decode", "mha decode");
        assertThat(rec.calls.subList(8, 12)).containsExactly("dcmha prefill 8", "mha prefill 8", "dcmha prefill 16",
                "mha prefill 16");
        assertThat(rec.calls).containsSubsequence("dcmha prefill 32", "mha prefill 32", "dcmha decode", "mha decode",
                "dcmha decode", "mha decode", "mha close", "dcmha close");
        // two warm-up steps, then per context one untimed and 3 timed steps
        assertThat(rec.calls.stream().filter("dcmha decode"::equals)).hasSize(2 + 2 * 4);
        assertThat(rec.calls.stream().filter("mha decode"::equals)).hasSize(2 + 2 * 4);
        assertThat(r.dcmha().prefillTokensPerS()).containsOnlyKeys(8, 16);
        assertThat(r.mha().decodeTokensPerS()).containsOnlyKeys(8, 32);
        assertThat(r.dcmha().prefillTokensPerS().values()).allMatch(v -> v > 0 && Double.isFinite(v));
        assertThat(r.bandwidthGbPerS()).isPositive();
        assertThat(r.gemm()).hasSize(4);
        assertThat(r.gemm().get(0).shape()).isEqualTo(new GemmShape(16, 3 * 64, 64));
        assertThat(r.blas().available()).isFalse();
        assertThat(r.blas().note()).contains("OpenBLAS not found").contains("/nonexistent/libopenblas.so.0");
        assertThat(progress).isNotEmpty().allMatch(l -> l.startsWith("tiny: "));
        assertThat(BenchReport.toTable(r)).contains("OpenBLAS not found");
    }

    @Test
    void refusesARunLongerThanThePresetsBlockSize() {
        BenchOptions o = tinyOptions(new ArrayList<>()).withLengths(List.of(8), List.of(BenchPreset.TINY.blockSize()), 3);
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(1))) {
            assertThatThrownBy(() -> new BenchEngine(o, b, new Recorder()).run())
                    .hasMessageContaining("block_size " + BenchPreset.TINY.blockSize());
        }
    }

    @Test
    void realModelRunsOnRandomWeights() {
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(2))) {
            BenchResult r = new BenchEngine(tinyOptions(new ArrayList<>()), b, new DCFormerBenchModels()).run();
            assertThat(r.dcmha().decodeTokensPerS().get(32)).isPositive();
            assertThat(r.mha().prefillTokensPerS().get(16)).isPositive();
            assertThat(r.dcmha().backendBytes()).isPositive();
            assertThat(b.liveTensors()).isZero();
        }
    }

    @Test
    void smallPresetsRandomWeightsKeepActivationsFinite() {
        BenchPreset p = BenchPreset.SMALL;
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(2));
             PresetWeights w = PresetWeights.generate(p, true, 42);
             DCFormerModel m = DCFormerModel.create(DCFormerBenchModels.config(p, true), w, b);
             Session s = m.newSession(64)) {
            float[] logits = s.prefillLast(new int[] {5, 900, 31999, 17, 4242, 8, 77, 1000});
            float[] next = s.decode(123);
            for (float[] l : new float[][] {logits, next}) {
                double min = Double.MAX_VALUE;
                double max = -Double.MAX_VALUE;
                for (float v : l) {
                    assertThat(v).isFinite();
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                // not degenerate: logits spread, but not exploding
                assertThat(max - min).isBetween(0.1, 1e4);
            }
        }
    }
}
