package io.dcformer4j.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.DecodeBatch;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.Quantization;
import io.dcformer4j.model.Session;
import java.util.ArrayList;
import java.util.List;

/** The real engine under measurement: {@link DCFormerModel} over {@link PresetWeights}. */
public final class DCFormerBenchModels implements BenchModelFactory {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The model configuration of a preset, parsed by the model's own config reader. */
    public static ModelConfig config(BenchPreset preset, boolean dcmha) {
        try {
            return ModelConfig.parse(JSON.writeValueAsString(preset.configJson(dcmha)), "bench preset " + preset.name());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("bench: cannot write the config of preset " + preset.name(), e);
        }
    }

    @Override
    public BenchModel open(BenchPreset preset, boolean dcmha, Backend backend, long seed) {
        PresetWeights weights = PresetWeights.generate(preset, dcmha, seed);
        try {
            // Q8_0: BF16 weights quantized at load, as --quantize q8_0 runs a checkpoint
            DCFormerModel model = DCFormerModel.create(config(preset, dcmha), weights, backend,
                    preset.weightDType() == DType.Q8_0 ? Quantization.Q8_0 : Quantization.NONE);
            return new Adapter(model, weights, preset.blockSize());
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    private record Adapter(DCFormerModel model, PresetWeights weights, int maxContext) implements BenchModel {
        @Override
        public Sequence newSequence() {
            return newSequence(maxContext);
        }

        @Override
        public Sequence newSequence(int context) {
            return new Seq(model.newSession(Math.min(context, maxContext)));
        }

        @Override
        public Batch newBatch(int maxRows) {
            DecodeBatch batch = model.newDecodeBatch(maxRows);
            return new Batch() {
                @Override
                public void step(List<Sequence> sequences, int[] tokens) {
                    List<Session> sessions = new ArrayList<>(sequences.size());
                    for (Sequence s : sequences) {
                        sessions.add(((Seq) s).session);
                    }
                    batch.step(sessions, tokens);
                }

                @Override
                public void close() {
                    batch.close();
                }
            };
        }

        @Override
        public void close() {
            try {
                model.close();
            } finally {
                weights.close();
            }
        }
    }

    private record Seq(Session session) implements BenchModel.Sequence {
        @Override
        public void prefill(int[] tokens) {
            session.prefillLast(tokens);
        }

        @Override
        public void decode(int token) {
            session.decode(token);
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
