package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointNamesTest {

    private static final Path FIXTURES = TorchCheckpointTest.FIXTURES;

    @TempDir
    Path dir;

    @Test
    void classifiesDerivedNames() {
        assertThat(CheckpointNames.isDerived("layers.3.attention.dyn_w_proj.dw_m")).isTrue();
        assertThat(CheckpointNames.isDerived("layers.3.attention.dyn_w_proj.qkw_m")).isTrue();
        assertThat(CheckpointNames.isDerived("layers.3.attention.kv_cache.kw_sub_cache")).isTrue();
        assertThat(CheckpointNames.isDerived("layers.3.attention.dyn_w_proj.dw1")).isFalse();
        assertThat(CheckpointNames.isDerived("layers.3.attention.dyn_w_proj.qkw")).isFalse();
        assertThat(CheckpointNames.isProjection("layers.0.attention.dyn_w_proj.pre_proj.w")).isTrue();
        assertThat(CheckpointNames.isProjection("layers.0.attention.wo.weight")).isFalse();
    }

    @Test
    void hidesDerivedEntriesAndIdentityProjectionsOnly() {
        try (WeightSource w = CheckpointNames.normalize(WeightSource.open(FIXTURES.resolve("single")))) {
            assertThat(w.tensors().keySet()).noneMatch(n -> n.contains("dw_m") || n.contains("qkw_m") || n.contains("kv_cache"));
            assertThat(w.tensors()).doesNotContainKeys("layers.0.attention.dyn_w_proj.pre_proj.w",
                    "layers.0.attention.dyn_w_proj.post_proj.w");
            assertThat(w.tensors()).containsKeys("layers.1.attention.dyn_w_proj.pre_proj.w",
                    "layers.1.attention.dyn_w_proj.post_proj.w", "layers.1.attention.dyn_w_proj.dw1",
                    "layers.0.attention.wqkv.weight");
            assertThat(w.data("layers.0.attention.wqkv.weight").isMapped()).isTrue();
            assertThatThrownBy(() -> w.data("layers.0.attention.dyn_w_proj.dw_m"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hidden");
            assertThat(w.tensors()).hasSize(3 + 2 * 12 + 2);
        }
    }

    @Test
    void mergesSplitProjectionsRowsQThenKThenV() {
        try (WeightSource w = CheckpointNames.normalize(WeightSource.open(FIXTURES.resolve("split_qkv")));
             WeightSource e = WeightSource.open(FIXTURES.resolve("expected_split_qkv.safetensors"))) {
            assertThat(w.tensors().keySet()).noneMatch(n -> n.matches(".*\\.w[qkv]\\.(weight|bias)"));
            for (String s : List.of("weight", "bias")) {
                String fused = "layers.1.attention.wqkv." + s;
                TensorInfo info = w.tensors().get(fused);
                assertThat(info.dtype()).isEqualTo(DType.F16);
                assertThat(info.shape()).isEqualTo(s.equals("weight") ? Shape.of(48, 16) : Shape.of(48));
                byte[] expected = concat(e.data("layers.1.attention.wq." + s), e.data("layers.1.attention.wk." + s),
                        e.data("layers.1.attention.wv." + s));
                assertThat(w.data(fused).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
            }
        }
    }

    private static byte[] concat(MemorySegment... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (MemorySegment p : parts) {
            out.writeBytes(p.toArray(ValueLayout.JAVA_BYTE));
        }
        return out.toByteArray();
    }

    private WeightSource source(String header, float... values) throws IOException {
        return WeightSource.open(SafetensorsBytes.write(dir.resolve("s.safetensors"), header, SafetensorsBytes.f32(values)));
    }

    @Test
    void incompleteSplitProjectionIsAnError() throws IOException {
        WeightSource s = source("{\"a.wq.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},"
                + "\"a.wk.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]}}", 1, 2);
        assertThatThrownBy(() -> CheckpointNames.normalize(s)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("a.wv.weight is missing");
        s.close();
    }

    @Test
    void splitAndFusedTogetherIsAnError() throws IOException {
        StringBuilder h = new StringBuilder("{");
        String[] names = {"a.wq.weight", "a.wk.weight", "a.wv.weight", "a.wqkv.weight"};
        for (int i = 0; i < names.length; i++) {
            h.append(i == 0 ? "" : ",").append("\"").append(names[i]).append("\":{\"dtype\":\"F32\",\"shape\":[1,1],")
                    .append("\"data_offsets\":[").append(4 * i).append(",").append(4 * i + 4).append("]}");
        }
        WeightSource s = source(h.append("}").toString(), 1, 2, 3, 4);
        assertThatThrownBy(() -> CheckpointNames.normalize(s)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("both a.wqkv.weight and a.wq.weight");
        s.close();
    }

    @Test
    void mismatchedWidthsAreAnError() throws IOException {
        WeightSource s = source("{\"a.wq.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                + "\"a.wk.weight\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[8,16]},"
                + "\"a.wv.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]}}", 1, 2, 3, 4, 5, 6);
        assertThatThrownBy(() -> CheckpointNames.normalize(s)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("a.wk.weight (F32 [2, 1])").hasMessageContaining("a.wqkv.weight");
        s.close();
    }

    @Test
    void identityCheckLooksAtEveryValue() throws IOException {
        String h = "{\"p\":{\"dtype\":\"F32\",\"shape\":[1,2,2],\"data_offsets\":[0,16]}}";
        try (WeightSource id = source(h, 1, -0f, 0, 1)) {
            assertThat(CheckpointNames.isIdentityProjection(id.tensors().get("p"), id.data("p"))).isTrue();
        }
        try (WeightSource notId = source(h, 1, 0, 1e-7f, 1)) {
            assertThat(CheckpointNames.isIdentityProjection(notId.tensors().get("p"), notId.data("p"))).isFalse();
        }
        try (WeightSource scaled = source(h, 2, 0, 0, 2)) {
            assertThat(CheckpointNames.isIdentityProjection(scaled.tensors().get("p"), scaled.data("p"))).isFalse();
        }
    }

    @Test
    void closingTheViewClosesTheSource() {
        WeightSource source = WeightSource.open(FIXTURES.resolve("single"));
        WeightSource view = CheckpointNames.normalize(source);
        view.close();
        assertThatThrownBy(() -> source.data("norm.weight")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> view.data("norm.weight")).isInstanceOf(IllegalStateException.class);
    }
}
