package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointConverterTest {

    private static final Path FIXTURES = TorchCheckpointTest.FIXTURES;
    private static final Path GOLDEN = TestResources.path("golden/dcformer_tiny");

    @TempDir
    Path dir;

    @Test
    void binRoundTripKeepsEveryWeightAndDropsDerivedEntries() throws IOException {
        Path in = dir.resolve("in");
        Files.createDirectories(in);
        Files.copy(FIXTURES.resolve("single/pytorch_model.bin"), in.resolve("pytorch_model.bin"));
        Files.writeString(in.resolve("config.json"), "{\"model_type\":\"dcformer\"}");
        Files.writeString(in.resolve("tokenizer.json"), "{}");
        Path out = dir.resolve("out");

        CheckpointConverter.Report report = CheckpointConverter.convert(in, out);

        assertThat(report.output()).isEqualTo(out.resolve("model.safetensors"));
        assertThat(report.copied()).containsExactly("config.json", "tokenizer.json");
        assertThat(Files.readString(out.resolve("config.json"))).isEqualTo("{\"model_type\":\"dcformer\"}");
        assertThat(report.dropped()).contains("layers.0.attention.dyn_w_proj.dw_m", "layers.1.attention.kv_cache.kw_cache",
                "layers.0.attention.dyn_w_proj.pre_proj.w").doesNotContain("layers.1.attention.dyn_w_proj.pre_proj.w");
        try (WeightSource converted = WeightSource.open(out);
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected.safetensors"))) {
            assertThat(converted).isInstanceOf(SafetensorsFile.class);
            assertThat(((SafetensorsFile) converted).metadata()).containsEntry("format", "pt");
            assertThat(converted.tensors().keySet()).containsExactlyElementsOf(report.written());
            for (String name : expected.tensors().keySet()) {
                boolean kept = !report.dropped().contains(name);
                assertThat(converted.contains(name)).as(name).isEqualTo(kept);
                if (kept) {
                    assertThat(converted.tensors().get(name).dtype()).isEqualTo(expected.tensors().get(name).dtype());
                    assertThat(converted.tensors().get(name).shape()).isEqualTo(expected.tensors().get(name).shape());
                    assertThat(converted.data(name).toArray(ValueLayout.JAVA_BYTE)).as(name)
                            .isEqualTo(expected.data(name).toArray(ValueLayout.JAVA_BYTE));
                }
            }
            assertThat(converted.tensors()).hasSize(expected.tensors().size() - report.dropped().size());
            for (TensorInfo t : converted.tensors().values()) {
                assertThat(t.offset() % t.dtype().byteSize()).as(t.name() + " alignment").isZero();
            }
        }
    }

    @Test
    void shardedBinConvertsToTheSameTensorsAsTheSingleOne() {
        CheckpointConverter.convert(FIXTURES.resolve("sharded"), dir.resolve("a"));
        CheckpointConverter.convert(FIXTURES.resolve("single/pytorch_model.bin"), dir.resolve("b"));
        try (WeightSource a = WeightSource.open(dir.resolve("a")); WeightSource b = WeightSource.open(dir.resolve("b"))) {
            assertThat(a.tensors()).hasSize(29);
            TorchCheckpointTest.assertSameTensors(a, b);
        }
    }

    @Test
    void splitProjectionsAreFused() {
        CheckpointConverter.Report r = CheckpointConverter.convert(FIXTURES.resolve("split_qkv"), dir);
        assertThat(r.written()).contains("layers.0.attention.wqkv.weight", "layers.0.attention.wqkv.bias")
                .noneMatch(n -> n.contains(".wq."));
        try (WeightSource w = WeightSource.open(dir)) {
            assertThat(w.tensors().get("layers.0.attention.wqkv.weight").shape()).isEqualTo(Shape.of(48, 16));
        }
    }

    @Test
    void goldenSafetensorsConvertsToItself() {
        CheckpointConverter.Report r = CheckpointConverter.convert(GOLDEN, dir);
        assertThat(r.dropped()).isEmpty();
        assertThat(r.copied()).containsExactly("config.json");
        try (WeightSource in = WeightSource.open(GOLDEN); WeightSource out = WeightSource.open(dir)) {
            TorchCheckpointTest.assertSameTensors(out, in);
        }
    }

    @Test
    void refusesToOverwriteItsInput() throws IOException {
        Path in = Files.copy(GOLDEN.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointConverter.convert(in, dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("is an input");
        assertThat(Files.size(in)).isEqualTo(Files.size(GOLDEN.resolve("model.safetensors")));
    }

    @Test
    void writerRejectsBadEntries() {
        var seg = java.lang.foreign.MemorySegment.ofArray(new byte[8]);
        assertThatThrownBy(() -> new SafetensorsWriter.Entry("x", DType.F32, Shape.of(3), seg))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'x'").hasMessageContaining("12");
        var e = new SafetensorsWriter.Entry("x", DType.F32, Shape.of(2), seg);
        assertThatThrownBy(() -> SafetensorsWriter.write(dir.resolve("d.safetensors"), List.of(e, e), java.util.Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'x' given twice");
    }

    @Test
    void writerOutputIsReadableAndPadded() throws IOException {
        var a = new SafetensorsWriter.Entry("a", DType.F32, Shape.of(2), java.lang.foreign.MemorySegment.ofArray(
                SafetensorsBytes.f32(1.5f, -2f)));
        var b = new SafetensorsWriter.Entry("b", DType.BF16, Shape.of(1, 1), java.lang.foreign.MemorySegment.ofArray(new byte[] {(byte) 0x80, 0x3f}));
        Path f = dir.resolve("w.safetensors");
        SafetensorsWriter.write(f, List.of(b, a), java.util.Map.of("k", "v"));
        long headerLen = ByteBuffer.wrap(Files.readAllBytes(f), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLen % 8).isZero();
        try (SafetensorsFile w = SafetensorsFile.open(f)) {
            assertThat(TestResources.f32(w.data("a"))).containsExactly(1.5f, -2f);
            assertThat(w.tensors().get("b").dtype()).isEqualTo(DType.BF16);
            assertThat(w.tensors().get("b").shape()).isEqualTo(Shape.of(1, 1));
            assertThat(w.metadata()).containsEntry("k", "v");
            assertThat(w.tensors().get("a").offset()).isLessThan(w.tensors().get("b").offset());
        }
    }

    @Test
    void writerPutsWiderTypesFirstSoEveryTensorIsAligned() {
        var odd = new SafetensorsWriter.Entry("a_half", DType.F16, Shape.of(3), java.lang.foreign.MemorySegment.ofArray(new byte[6]));
        var f32 = new SafetensorsWriter.Entry("b_float", DType.F32, Shape.of(1), java.lang.foreign.MemorySegment.ofArray(
                SafetensorsBytes.f32(3f)));
        Path f = dir.resolve("align.safetensors");
        SafetensorsWriter.write(f, List.of(odd, f32), java.util.Map.of());
        try (SafetensorsFile w = SafetensorsFile.open(f)) {
            assertThat(w.tensors().get("b_float").offset() % 8).isZero();
            assertThat(w.tensors().get("a_half").offset()).isEqualTo(w.tensors().get("b_float").offset() + 4);
            assertThat(TestResources.f32(w.data("b_float"))).containsExactly(3f);
        }
    }
}
