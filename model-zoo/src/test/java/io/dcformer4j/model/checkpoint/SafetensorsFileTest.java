package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    private static final Path GOLDEN = TestResources.path("golden/dcformer_tiny");

    @TempDir
    Path dir;

    @Test
    void readsTheGoldenCheckpointFromItsDirectory() throws IOException {
        byte[] raw = Files.readAllBytes(GOLDEN.resolve("model.safetensors"));
        try (WeightSource w = WeightSource.open(GOLDEN)) {
            assertThat(w).isInstanceOf(SafetensorsFile.class);
            assertThat(w.tensors()).hasSize(4 * 13 + 3);
            TensorInfo wqkv = w.tensors().get("layers.1.attention.wqkv.weight");
            assertThat(wqkv.dtype()).isEqualTo(DType.F32);
            assertThat(wqkv.shape()).isEqualTo(Shape.of(192, 64));
            assertThat(wqkv.byteSize()).isEqualTo(192 * 64 * 4);
            assertThat(w.tensors().get("layers.0.attention.dyn_w_proj.qkw").shape()).isEqualTo(Shape.of(1, 4, 16, 4, 4));
            MemorySegment seg = w.data("layers.1.attention.wqkv.weight");
            assertThat(seg.isMapped()).isTrue();
            byte[] expected = Arrays.copyOfRange(raw, (int) wqkv.offset(), (int) (wqkv.offset() + wqkv.byteSize()));
            assertThat(seg.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
            assertThat(((SafetensorsFile) w).metadata()).containsEntry("config", "dcformer_tiny");
        }
    }

    @Test
    void bf16CopyHoldsTheF32WeightsRounded() {
        try (WeightSource f32 = WeightSource.open(GOLDEN.resolve("model.safetensors"));
             WeightSource bf16 = WeightSource.open(GOLDEN.resolve("model.bf16.safetensors"))) {
            assertThat(bf16.tensors().keySet()).isEqualTo(f32.tensors().keySet());
            String name = "output.weight";
            assertThat(bf16.tensors().get(name).dtype()).isEqualTo(DType.BF16);
            float[] full = TestResources.f32(f32.data(name));
            MemorySegment half = bf16.data(name);
            assertThat(half.byteSize()).isEqualTo(full.length * 2L);
            for (int i = 0; i < full.length; i++) {
                float h = Numerics.bf16ToFloat(half.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 2L * i));
                assertThat(h).isEqualTo(Numerics.roundTo(DType.BF16, full[i]));
            }
        }
    }

    @Test
    void dataAfterCloseIsAnError() {
        WeightSource w = WeightSource.open(GOLDEN);
        MemorySegment seg = w.data("norm.weight");
        w.close();
        w.close();
        assertThatThrownBy(() -> w.data("norm.weight")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> seg.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void unknownTensorIsNamed() {
        try (WeightSource w = WeightSource.open(GOLDEN)) {
            assertThatThrownBy(() -> w.data("layers.9.nope")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("layers.9.nope").hasMessageContaining("model.safetensors");
        }
    }

    @Test
    void readsScalarsAndEmptyTensors() throws IOException {
        Path f = SafetensorsBytes.write(dir.resolve("a.safetensors"),
                "{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                        + "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                        + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                SafetensorsBytes.f32(2.5f, Float.intBitsToFloat(7)));
        try (WeightSource w = WeightSource.open(f)) {
            assertThat(TestResources.f32(w.data("s"))).containsExactly(2.5f);
            assertThat(w.data("e").byteSize()).isZero();
            assertThat(w.data("i").get(ValueLayout.JAVA_INT_UNALIGNED, 0)).isEqualTo(7);
        }
    }

    @Test
    void emptyDirectoryNamesTheFilesLookedFor() {
        assertThatThrownBy(() -> WeightSource.open(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("pytorch_model.bin");
    }

    @Test
    void missingFileIsAnError() {
        assertThatThrownBy(() -> WeightSource.open(dir.resolve("none.safetensors")))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("none.safetensors");
    }

    private static final String ONE = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private void assertRejected(byte[] bytes, String... fragments) throws IOException {
        Path f = Files.write(dir.resolve("bad.safetensors"), bytes);
        var thrown = assertThatThrownBy(() -> SafetensorsFile.open(f).close())
                .isInstanceOf(CheckpointException.class).hasMessageContaining("bad.safetensors");
        for (String s : fragments) {
            thrown.hasMessageContaining(s);
        }
    }

    @Test
    void rejectsFileShorterThanTheLengthPrefix() throws IOException {
        assertRejected(new byte[] {1, 0, 0}, "3 bytes");
    }

    @Test
    void rejectsHeaderLengthPastTheEnd() throws IOException {
        assertRejected(SafetensorsBytes.of(1000, ONE, new byte[8]), "header length 1000", "past the end");
    }

    @Test
    void rejectsAbsurdHeaderLength() throws IOException {
        assertRejected(SafetensorsBytes.of(200L << 20, ONE, new byte[8]), "absurd", String.valueOf(200L << 20));
        assertRejected(SafetensorsBytes.of(-1L, ONE, new byte[8]), "absurd", "18446744073709551615");
    }

    @Test
    void rejectsBadJson() throws IOException {
        assertRejected(SafetensorsBytes.of("{\"t\":{\"dtype\":\"F32\",", new byte[8]), "bad JSON");
        assertRejected(SafetensorsBytes.of("[1,2]", new byte[8]), "not a JSON object");
        assertRejected(SafetensorsBytes.of("", new byte[8]), "not a JSON object");
        assertRejected(SafetensorsBytes.of("{\"t\":3}", new byte[8]), "'t'", "expected an object");
        assertRejected(SafetensorsBytes.of("{\"__metadata__\":{\"a\":1}}", new byte[0]), "__metadata__", "'a'");
    }

    @Test
    void rejectsDeeplyNestedJsonWithoutStackOverflow() throws IOException {
        String deep = "{\"t\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertRejected(SafetensorsBytes.of(deep, new byte[0]), "bad JSON", "nested deeper than 64 levels");
    }

    @Test
    void theHeaderLimitIsTheJsonLimit() throws IOException {
        // Jackson alone refuses strings over 20 million characters; a header under the stated 100 MB may hold one.
        String big = "x".repeat(20_000_001);
        Path f = SafetensorsBytes.write(dir.resolve("big.safetensors"),
                "{\"__metadata__\":{\"notes\":\"" + big + "\"}," + ONE.substring(1), new byte[8]);
        try (SafetensorsFile w = SafetensorsFile.open(f)) {
            assertThat(w.metadata().get("notes")).hasSize(big.length());
            assertThat(w.tensors()).containsOnlyKeys("t");
        }
    }

    @Test
    void numbersTooLongToConvertCheaplyAreRefusedInOurWords() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("[2]", "[" + "1".repeat(1001) + "]"), new byte[8]),
                "bad JSON in safetensors header", "a number longer than 1000 digits");
    }

    @Test
    void rejectsDuplicateNames() throws IOException {
        String t = "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        assertRejected(SafetensorsBytes.of("{" + t + "," + t + "}", new byte[8]), "bad JSON", "Duplicate field 't'");
    }

    @Test
    void rejectsUnknownAndUnsupportedDtypes() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("F32", "Q4"), new byte[8]), "tensor 't'", "unknown dtype 'Q4'");
        assertRejected(SafetensorsBytes.of(ONE.replace("F32", "I64").replace("[2]", "[1]"), new byte[8]),
                "tensor 't'", "unsupported dtype 'I64'");
        assertRejected(SafetensorsBytes.of(ONE.replace("\"F32\"", "7"), new byte[8]), "tensor 't'", "dtype is 7");
    }

    @Test
    void rejectsShapeThatDisagreesWithTheSpan() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("[2]", "[3]"), new byte[12]),
                "tensor 't'", "shape [3] of F32 needs 12 bytes", "span 8");
    }

    @Test
    void rejectsBadShapes() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("[2]", "[-2]"), new byte[8]), "tensor 't'", "invalid dimension -2");
        assertRejected(SafetensorsBytes.of(ONE.replace("[2]", "[2.5]"), new byte[8]), "tensor 't'", "invalid dimension 2.5");
        assertRejected(SafetensorsBytes.of(ONE.replace("[2]", "[2147483647,2147483647,2147483647]"), new byte[8]),
                "tensor 't'", "more than " + Long.MAX_VALUE + " elements");
        assertRejected(SafetensorsBytes.of(ONE.replace("\"shape\":[2],", ""), new byte[8]), "tensor 't'", "shape is missing");
    }

    @Test
    void rejectsOffsetsOutOfRange() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[8,16]"), new byte[8]),
                "tensor 't'", "[8, 16] out of range", "8 bytes");
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[9223372036854775800,9223372036854775807]"), new byte[8]),
                "tensor 't'", "out of range");
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[0,99999999999999999999999]"), new byte[8]),
                "tensor 't'", "invalid value 99999999999999999999999");
    }

    @Test
    void rejectsNegativeAndReversedOffsets() throws IOException {
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[-8,0]"), new byte[8]), "tensor 't'", "invalid value -8");
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[8,0]"), new byte[8]), "tensor 't'", "end before they begin");
        assertRejected(SafetensorsBytes.of(ONE.replace("[0,8]", "[0]"), new byte[8]), "tensor 't'", "expected [begin, end]");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertRejected(SafetensorsBytes.of(h, new byte[12]), "'a' [0, 8)", "'b' [4, 12)", "overlap");
        String contained = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
        assertRejected(SafetensorsBytes.of(contained, new byte[16]), "overlap");
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        byte[] whole = Files.readAllBytes(GOLDEN.resolve("model.safetensors"));
        byte[] cut = Arrays.copyOf(whole, whole.length - 100);
        assertRejected(cut, "out of range", "file truncated?");
    }

    @Test
    void rejectsGarbage() throws IOException {
        byte[] noise = new byte[4096];
        new java.util.Random(3).nextBytes(noise);
        ByteBuffer.wrap(noise).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 100);
        assertRejected(noise, "bad JSON");
    }
}
