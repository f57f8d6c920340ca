package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.CpuBackendFixture;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.model.checkpoint.CheckpointConverter;
import io.dcformer4j.model.checkpoint.CheckpointException;
import io.dcformer4j.model.checkpoint.SafetensorsFile;
import io.dcformer4j.model.checkpoint.SafetensorsWriter;
import io.dcformer4j.model.checkpoint.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Q8_0 checkpoints: {@code convert --quantize q8_0} writes the layers' projections as Q8_0 with metadata
 * saying so and leaves every other tensor as it was; loading that file gives the very logits a
 * quantize-at-load of the original gives (one reference quantizer); a Q8_0 tensor where only 16/32-bit
 * weights are allowed is refused naming it.
 */
class Q8CheckpointTest {
    @RegisterExtension
    static final CpuBackendFixture CPU = new CpuBackendFixture();

    @Test
    void convertedFileLoadsAsQuantizeAtLoad(@TempDir Path out) {
        Path golden = TestData.goldenDir();
        CheckpointConverter.convert(golden.resolve("model.safetensors"), out, false, Quantization.Q8_0);
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.metadata()).containsEntry("quantization", "q8_0");
            Map<String, TensorInfo> t = f.tensors();
            for (String name : List.of("layers.0.attention.wqkv.weight", "layers.3.attention.wo.weight",
                    "layers.1.feed_forward.w1.weight", "layers.1.feed_forward.w2.weight", "layers.2.feed_forward.w3.weight")) {
                assertThat(t.get(name).dtype()).as(name).isEqualTo(DType.Q8_0);
            }
            for (String name : List.of("tok_embeddings.weight", "output.weight", "norm.weight", "layers.0.attention_norm.weight",
                    "layers.0.attention.dyn_w_proj.qkw", "layers.0.feed_forward.mg.weight", "layers.0.attention.q_norm.scale")) {
                assertThat(t.get(name).dtype()).as(name).isEqualTo(DType.F32);
            }
        }
        int[] tokens = TestData.referenceTokens();
        ModelConfig config = ModelConfig.load(golden);
        float[] fromFile;
        float[] atLoad;
        float[] f32;
        try (DCFormerModel m = DCFormerModel.load(out, config, CPU.backend());
             Session s = m.newSession(tokens.length)) {
            fromFile = TestData.flatten(s.prefill(tokens));
        }
        try (DCFormerModel m = DCFormerModel.load(golden, config, CPU.backend(), Quantization.Q8_0);
             Session s = m.newSession(tokens.length)) {
            atLoad = TestData.flatten(s.prefill(tokens));
        }
        try (DCFormerModel m = DCFormerModel.load(golden, config, CPU.backend());
             Session s = m.newSession(tokens.length)) {
            f32 = TestData.flatten(s.prefill(tokens));
        }
        assertThat(fromFile).as("logits of the Q8_0 file vs quantized at load").containsExactly(atLoad);
        double err = TestData.relL2(atLoad, f32);
        assertThat(err).as("Q8_0 vs F32 logits, relative L2").isGreaterThan(0).isLessThan(0.05);
        assertThat(TestData.relL2(atLoad, TestData.reference("prefill_logits"))).isLessThan(0.05);
    }

    @Test
    void q8TensorOutsideTheProjectionsIsRefused(@TempDir Path dir) throws Exception {
        Path golden = TestData.goldenDir();
        CheckpointConverter.convert(golden.resolve("model.safetensors"), dir, false, Quantization.NONE);
        // rewrite the file with a Q8_0 embedding table
        Path file = dir.resolve("model.safetensors");
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        Files.copy(dir.resolve("config.json"), bad.resolve("config.json"));
        try (SafetensorsFile f = SafetensorsFile.open(file); Arena arena = Arena.ofConfined()) {
            var entries = new java.util.ArrayList<SafetensorsWriter.Entry>();
            for (TensorInfo t : f.tensors().values()) {
                MemorySegment data = f.data(t.name());
                if (t.name().equals("tok_embeddings.weight")) {
                    float[] v = data.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED);
                    MemorySegment q = arena.allocate(DType.Q8_0.bytesFor(v.length));
                    Q8_0Format.quantize(v, 0, v.length, q, 0);
                    entries.add(new SafetensorsWriter.Entry(t.name(), DType.Q8_0, t.shape(), q));
                } else {
                    entries.add(new SafetensorsWriter.Entry(t.name(), t.dtype(), t.shape(), data));
                }
            }
            SafetensorsWriter.write(bad.resolve("model.safetensors"), entries, Map.of());
        }
        assertThatThrownBy(() -> DCFormerModel.load(bad, CPU.backend())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tok_embeddings.weight").hasMessageContaining("Q8_0");
    }

    @Test
    void safetensorsRefusesAQ8TensorOfPartialBlocks(@TempDir Path dir) throws Exception {
        String header = "{\"w\":{\"dtype\":\"Q8_0\",\"shape\":[2,40],\"data_offsets\":[0,170]}}";
        byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + h.length + 170).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path file = dir.resolve("x.safetensors");
        Files.write(file, b.array());
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("[2, 40]").hasMessageContaining("multiple of 32");
    }
}
