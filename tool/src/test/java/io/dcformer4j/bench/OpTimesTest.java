package io.dcformer4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The per-operation decode breakdown: every operation of a step counted once, and no more time than the step took. */
class OpTimesTest {

    @Test
    void countsEachLayersOperationsOncePerStepWithinTheStepsTime() {
        BenchPreset tiny = BenchPreset.byName("tiny");
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1))) {
            List<OpTimesRun.Breakdown> all = OpTimesRun.run(tiny, be, new DCFormerBenchModels(), 8, 5, 1, line -> { });
            assertThat(all).extracting(OpTimesRun.Breakdown::dcmha).containsExactly(true, false);
            for (OpTimesRun.Breakdown d : all) {
                Map<String, Long> callsPerStep = d.rows().stream()
                        .collect(Collectors.toMap(OpTimes.Row::op, r -> r.calls() / d.steps()));
                assertThat(callsPerStep.get("attentionDecode")).isEqualTo(tiny.layers());
                assertThat(callsPerStep.get("linear [" + tiny.vocab() + ", " + tiny.dim() + "]")).as("the output head").isEqualTo(1);
                assertThat(callsPerStep.getOrDefault("dynamicWeightsFromProjection", 0L)).isEqualTo(d.dcmha() ? tiny.layers() : 0);
                assertThat(d.rows()).allSatisfy(r -> assertThat(r.calls() % d.steps()).as(r.op()).isZero());
                assertThat(d.outsideMs()).as("operations timed inside the step").isGreaterThanOrEqualTo(0);
                assertThat(d.rows()).isSortedAccordingTo((a, b) -> Long.compare(b.nanos(), a.nanos()));
            }
            assertThat(be.liveTensors()).as("the models and sequences closed").isZero();
        }
    }

    @Test
    void theTwoModelsDecodeStepsAlternate() {
        BenchPreset tiny = BenchPreset.byName("tiny");
        StringBuilder order = new StringBuilder(); // one letter per decode step: D for DCMHA, M for MHA
        DCFormerBenchModels real = new DCFormerBenchModels();
        BenchModelFactory logging = (preset, dcmha, backend, seed) -> {
            BenchModel model = real.open(preset, dcmha, backend, seed);
            return new BenchModel() {
                @Override
                public Sequence newSequence() {
                    Sequence s = model.newSequence();
                    return new Sequence() {
                        @Override
                        public void prefill(int[] tokens) {
                            s.prefill(tokens);
                        }

                        @Override
                        public void decode(int token) {
                            order.append(dcmha ? 'D' : 'M');
                            s.decode(token);
                        }

                        @Override
                        public void close() {
                            s.close();
                        }
                    };
                }

                @Override
                public void close() {
                    model.close();
                }
            };
        };
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1))) {
            OpTimesRun.run(tiny, be, logging, 8, 5, 1, line -> { });
            assertThat(order.toString()).as("warm-up and timed steps, model by model").matches("(DM)+");
            assertThat(be.liveTensors()).isZero();
        }
    }

    @Test
    void aBatchStepsEverySequenceInOneCallPerLayer() {
        BenchPreset tiny = BenchPreset.byName("tiny");
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(2))) {
            List<OpTimesRun.Breakdown> all = OpTimesRun.run(tiny, be, new DCFormerBenchModels(), 8, 4, 3, line -> { });
            for (OpTimesRun.Breakdown d : all) {
                assertThat(d.batch()).isEqualTo(3);
                Map<String, Long> callsPerStep = d.rows().stream()
                        .collect(Collectors.toMap(OpTimes.Row::op, r -> r.calls() / d.steps()));
                assertThat(callsPerStep.get("attentionDecodeBatch")).as("one call per layer for the batch").isEqualTo(tiny.layers());
                assertThat(callsPerStep).doesNotContainKey("attentionDecode");
                assertThat(callsPerStep.get("linear [" + tiny.vocab() + ", " + tiny.dim() + "]")).isEqualTo(1);
            }
            assertThat(be.liveTensors()).isZero();
        }
    }
}
