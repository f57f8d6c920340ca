package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FiniteCheckTest {

    @TempDir
    Path dir;

    private static byte[] halves(DType dtype, float... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putShort(dtype == DType.F16 ? Numerics.floatToF16(v) : Numerics.floatToBf16(v));
        }
        return b.array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    /** a: finite F32 [2, 2]; b: F32 [2, 3] with NaN at [1, 1]; c: F16 [2] with +Inf; i: I32 holding Inf's bits. */
    private Path poisoned() throws IOException {
        byte[] data = concat(SafetensorsBytes.f32(1, 2, 3, 4),
                SafetensorsBytes.f32(0, 1, 2, 3, Float.NaN, 5),
                halves(DType.F16, 1, Float.POSITIVE_INFINITY),
                SafetensorsBytes.f32(Float.intBitsToFloat(0x7F800000)));
        return SafetensorsBytes.write(dir.resolve("model.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]},"
                        + "\"c\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[40,44]},"
                        + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[44,48]}}", data);
    }

    @Test
    void namesTheFirstNonFiniteWeightInNameOrder() throws IOException {
        try (WeightSource w = WeightSource.open(poisoned())) {
            FiniteCheck.NonFinite n = FiniteCheck.firstNonFinite(w).orElseThrow();
            assertThat(n.tensor()).isEqualTo("b");
            assertThat(n.element()).isEqualTo(4);
            assertThat(n.index()).containsExactly(1, 1);
            assertThat(n.value()).isNaN();
            assertThat(n.describe()).contains("tensor 'b'", "NaN", "element 4", "[1, 1]");
            assertThat(FiniteCheck.firstNonFinite(w.tensors().get("c"), w.data("c")).orElseThrow().value())
                    .isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(FiniteCheck.firstNonFinite(w.tensors().get("a"), w.data("a"))).isEmpty();
            assertThat(FiniteCheck.firstNonFinite(w.tensors().get("i"), w.data("i"))).as("integers are never non-finite").isEmpty();
        }
    }

    @Test
    void findsBf16InfinityAndPassesFiniteExtremes() throws IOException {
        byte[] data = concat(halves(DType.BF16, 3e38f, -3e38f, 0f, Float.NEGATIVE_INFINITY), halves(DType.F16, 65504f, -65504f));
        Path f = SafetensorsBytes.write(dir.resolve("x.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                        + "\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", data);
        try (WeightSource w = WeightSource.open(f)) {
            FiniteCheck.NonFinite n = FiniteCheck.firstNonFinite(w).orElseThrow();
            assertThat(n.tensor()).isEqualTo("w");
            assertThat(n.element()).isEqualTo(3);
            assertThat(n.value()).isEqualTo(Float.NEGATIVE_INFINITY);
            assertThat(FiniteCheck.firstNonFinite(w.tensors().get("h"), w.data("h"))).as("F16 max is finite").isEmpty();
        }
    }

    @Test
    void theGoldenCheckpointIsFinite() {
        try (WeightSource w = WeightSource.open(TestResources.path("golden/dcformer_tiny"))) {
            assertThat(FiniteCheck.firstNonFinite(w)).isEmpty();
        }
    }

    @Test
    void convertRefusesNonFiniteWeightsNamingTheFirstUnlessAllowed() throws IOException {
        Path in = poisoned();
        Path out = dir.resolve("out");
        assertThatThrownBy(() -> CheckpointConverter.convert(in, out)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("tensor 'b'")
                .hasMessageContaining("NaN").hasMessageContaining("not converted");
        assertThat(out.resolve("model.safetensors")).doesNotExist();
        CheckpointConverter.Report r = CheckpointConverter.convert(in, out, true);
        assertThat(r.nonFinite()).hasValueSatisfying(n -> assertThat(n.tensor()).isEqualTo("b"));
        assertThat(Files.exists(r.output())).isTrue();
    }
}
