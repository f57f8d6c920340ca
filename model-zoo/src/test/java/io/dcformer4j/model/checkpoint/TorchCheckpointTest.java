package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {

    static final Path FIXTURES = TestResources.path("checkpoints");

    @TempDir
    Path dir;

    /** Same names, dtypes, shapes and bytes. */
    static void assertSameTensors(WeightSource actual, WeightSource expected) {
        assertThat(actual.tensors().keySet()).isEqualTo(expected.tensors().keySet());
        for (TensorInfo e : expected.tensors().values()) {
            TensorInfo a = actual.tensors().get(e.name());
            assertThat(a.dtype()).as(e.name()).isEqualTo(e.dtype());
            assertThat(a.shape()).as(e.name()).isEqualTo(e.shape());
            assertThat(a.byteSize()).as(e.name()).isEqualTo(e.byteSize());
            assertThat(actual.data(e.name()).toArray(ValueLayout.JAVA_BYTE)).as(e.name())
                    .isEqualTo(expected.data(e.name()).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void singleFileMatchesTheExpectedValues() {
        try (WeightSource bin = WeightSource.open(FIXTURES.resolve("single"));
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected.safetensors"))) {
            assertThat(bin).isInstanceOf(TorchCheckpoint.class);
            assertSameTensors(bin, expected);
            TensorInfo wqkv = bin.tensors().get("layers.0.attention.wqkv.weight");
            assertThat(wqkv.dtype()).isEqualTo(DType.F16);
            assertThat(wqkv.shape()).isEqualTo(Shape.of(48, 16));
            assertThat(wqkv.offset()).isPositive();
            assertThat(bin.data(wqkv.name()).isMapped()).isTrue();
            assertThat(bin.tensors()).containsKeys("layers.1.attention.kv_cache.kw_cache",
                    "layers.1.attention.dyn_w_proj.dw_m", "layers.0.attention.dyn_w_proj.pre_proj.w");
        }
    }

    @Test
    void shardedFilesMatchTheExpectedValues() {
        try (WeightSource bin = WeightSource.open(FIXTURES.resolve("sharded"));
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected.safetensors"))) {
            assertThat(bin).isInstanceOf(ShardedWeightSource.class);
            assertSameTensors(bin, expected);
        }
    }

    @Test
    void splitQkvFileMatchesTheExpectedValues() {
        try (WeightSource bin = WeightSource.open(FIXTURES.resolve("split_qkv/pytorch_model.bin"));
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected_split_qkv.safetensors"))) {
            assertSameTensors(bin, expected);
        }
    }

    @Test
    void extrasCoverStridesOffsetsAndIntegerTypes() {
        try (WeightSource bin = WeightSource.open(FIXTURES.resolve("extras.bin"));
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected_extras.safetensors"))) {
            assertSameTensors(bin, expected);
            assertThat(bin.tensors().get("transposed").offset()).isEqualTo(-1);
            assertThat(bin.tensors().get("i64").dtype()).isEqualTo(DType.I32);
            TensorInfo rows = bin.tensors().get("rows");
            assertThat(rows.offset()).isEqualTo(bin.tensors().get("base").offset() + 6 * 4);
            assertThat(bin.data("rows").isMapped()).isTrue();
            assertThat(TestResources.f32(bin.data("transposed"))).startsWith(0f, 6 / 8f, 12 / 8f, 18 / 8f, 1 / 8f);
        }
    }

    @Test
    void protocol4PickleReadsTheSame() {
        try (WeightSource bin = WeightSource.open(FIXTURES.resolve("extras_protocol4.bin"));
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected_extras.safetensors"))) {
            assertSameTensors(bin, expected);
        }
    }

    @Test
    void readsZip64Archives() throws IOException {
        byte[] zip64 = Zip64Bytes.rewrite(Files.readAllBytes(FIXTURES.resolve("single/pytorch_model.bin")));
        Path f = Files.write(dir.resolve("zip64.bin"), zip64);
        try (WeightSource bin = WeightSource.open(f);
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected.safetensors"))) {
            assertSameTensors(bin, expected);
        }
        int locator = zip64.length - 22 - 20;
        zip64[locator + 8] = (byte) 0xF0; // ZIP64 end record offset points nowhere
        zip64[locator + 14] = (byte) 0x70;
        assertRejected(Files.write(dir.resolve("zip64bad.bin"), zip64), "ZIP64 end-of-central-directory record",
                "outside the file");
    }

    @Test
    void rejectsBigEndianArchives() throws IOException {
        Map<String, byte[]> e = single();
        e.put("pytorch_model/byteorder", "big".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertRejected(ZipBytes.write(dir.resolve("big.bin"), e), "byteorder", "big");
        e.put("pytorch_model/byteorder", "little".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        try (WeightSource w = WeightSource.open(ZipBytes.write(dir.resolve("little.bin"), e))) {
            assertThat(w.tensors()).containsKey("norm.weight");
        }
    }

    @Test
    void rejectsLegacyNonZipFormatWithAHint() throws IOException {
        Path f = Files.write(dir.resolve("legacy.bin"), new PickleBytes().proto().integer(1).op('.').bytes());
        assertRejected(f, "legacy");
    }

    @Test
    void refusesOsSystemNamingTheGlobal() {
        assertThatThrownBy(() -> WeightSource.open(FIXTURES.resolve("forbidden_os_system.bin")))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("forbidden global 'posix.system'")
                .hasMessageContaining("forbidden_os_system.bin");
    }

    @Test
    void refusesCustomClassNamingTheGlobal() {
        assertThatThrownBy(() -> WeightSource.open(FIXTURES.resolve("forbidden_custom_class.bin")))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("forbidden global '__main__.CustomClass'");
    }

    private Map<String, byte[]> single() throws IOException {
        return ZipBytes.entries(FIXTURES.resolve("single/pytorch_model.bin"));
    }

    private void assertRejected(Path file, String... fragments) {
        var thrown = assertThatThrownBy(() -> WeightSource.open(file).close()).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.getFileName().toString());
        for (String f : fragments) {
            thrown.hasMessageContaining(f);
        }
    }

    @Test
    void acceptsAnArchiveRewrittenByAnotherZipWriterUnderAnotherFolderName() throws IOException {
        Map<String, byte[]> renamed = new LinkedHashMap<>();
        single().forEach((k, v) -> renamed.put("other" + k.substring(k.indexOf('/')), v));
        Path f = ZipBytes.write(dir.resolve("renamed.bin"), renamed);
        try (WeightSource bin = WeightSource.open(f);
             WeightSource expected = WeightSource.open(FIXTURES.resolve("expected.safetensors"))) {
            assertSameTensors(bin, expected);
        }
    }

    @Test
    void rejectsCompressedEntries() throws IOException {
        Path f = ZipBytes.write(dir.resolve("deflated.bin"), single(), "pytorch_model/data/3");
        assertRejected(f, "pytorch_model/data/3", "compressed");
    }

    @Test
    void rejectsMissingStorage() throws IOException {
        Map<String, byte[]> e = single();
        e.remove("pytorch_model/data/3");
        assertRejected(ZipBytes.write(dir.resolve("missing.bin"), e), "storage '3'", "no entry pytorch_model/data/3");
    }

    @Test
    void rejectsStorageOfTheWrongSize() throws IOException {
        Map<String, byte[]> e = single();
        e.put("pytorch_model/data/3", Arrays.copyOf(e.get("pytorch_model/data/3"), 10));
        assertRejected(ZipBytes.write(dir.resolve("short.bin"), e), "pytorch_model/data/3", "has 10 bytes, expected");
    }

    @Test
    void rejectsArchiveWithoutPickle() throws IOException {
        Map<String, byte[]> e = single();
        e.remove("pytorch_model/data.pkl");
        assertRejected(ZipBytes.write(dir.resolve("nopickle.bin"), e), "data.pkl");
    }

    @Test
    void rejectsTruncatedAndGarbageFiles() throws IOException {
        byte[] whole = Files.readAllBytes(FIXTURES.resolve("single/pytorch_model.bin"));
        assertRejected(Files.write(dir.resolve("cut.bin"), Arrays.copyOf(whole, whole.length / 2)), "not a zip archive");
        assertRejected(Files.write(dir.resolve("empty.bin"), new byte[0]), "not a zip archive");
        byte[] noise = new byte[5000];
        new java.util.Random(5).nextBytes(noise);
        assertRejected(Files.write(dir.resolve("noise.bin"), noise), "not a zip archive");
    }

    @Test
    void rejectsCorruptCentralDirectory() throws IOException {
        byte[] whole = Files.readAllBytes(FIXTURES.resolve("single/pytorch_model.bin"));
        int eocd = whole.length - 22;
        whole[eocd + 16] = (byte) 0xF0; // central directory offset far past the end
        whole[eocd + 19] = (byte) 0x7F;
        assertRejected(Files.write(dir.resolve("cd.bin"), whole), "central directory", "outside the file");
    }

    private Path withPickle(String name, byte[] pickle) throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("archive/data.pkl", pickle);
        e.put("archive/data/0", new byte[16]);
        return ZipBytes.write(dir.resolve(name), e);
    }

    @Test
    void readsAHandWrittenPickle() throws IOException {
        byte[] p = new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 1, new int[] {3}, new int[] {1})
                .op('u').op('.').bytes();
        try (WeightSource w = WeightSource.open(withPickle("ok.bin", p))) {
            assertThat(w.tensors().get("w").shape()).isEqualTo(Shape.of(3));
        }
    }

    @Test
    void rejectsViewsOutsideTheirStorage() throws IOException {
        byte[] p = new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 2, new int[] {3}, new int[] {1})
                .op('u').op('.').bytes();
        assertRejected(withPickle("view.bin", p), "tensor 'w'", "reaches element 4 of a storage of 4");
        byte[] expanded = new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 0, new int[] {1000000, 1000000}, new int[] {0, 0})
                .op('u').op('.').bytes();
        assertRejected(withPickle("expanded.bin", expanded), "tensor 'w'", "expanded");
    }

    @Test
    void rejectsAStorageDescribedTwoWays() throws IOException {
        byte[] p = new PickleBytes().proto().orderedDict().mark()
                .str("a").tensor("HalfStorage", "0", 8, 0, new int[] {8}, new int[] {1})
                .str("b").tensor("FloatStorage", "0", 4, 0, new int[] {4}, new int[] {1})
                .op('u').op('.').bytes();
        assertRejected(withPickle("twice.bin", p), "tensor 'b'", "storage '0'", "torch.HalfStorage of 8");
    }

    @Test
    void rejectsForbiddenGlobalsBeforeCallingAnything() throws IOException {
        byte[] p = new PickleBytes().proto().global("builtins", "eval").str("1").op(0x85).op('R').op('.').bytes();
        assertRejected(withPickle("eval.bin", p), "forbidden global 'builtins.eval'");
        byte[] stackGlobal = new PickleBytes().proto().str("subprocess").str("Popen").op(0x93).op('.').bytes();
        assertRejected(withPickle("sg.bin", stackGlobal), "forbidden global 'subprocess.Popen'");
    }

    @Test
    void rejectsMalformedPickles() throws IOException {
        assertRejected(withPickle("op.bin", new PickleBytes().proto().op('i').bytes()), "unsupported pickle opcode 0x69");
        assertRejected(withPickle("trunc.bin", new PickleBytes().proto().op('X').op(0xFF).op(0xFF).op(0xFF).op(0x7F).bytes()),
                "pickle truncated");
        assertRejected(withPickle("nostop.bin", new PickleBytes().proto().op('N').bytes()), "without STOP");
        assertRejected(withPickle("under.bin", new PickleBytes().proto().op('R').bytes()), "stack underflow");
        assertRejected(withPickle("memo.bin", new PickleBytes().proto().op('h').op(7).bytes()), "memo key 7");
        assertRejected(withPickle("list.bin", new PickleBytes().proto().op(']').op('.').bytes()), "expected a state_dict");
        assertRejected(withPickle("notensor.bin", new PickleBytes().proto().op('}').str("a").integer(3).op('s').op('.').bytes()),
                "'a'", "not a tensor");
        assertRejected(withPickle("call.bin", new PickleBytes().proto().global("torch", "HalfStorage").op(')').op('R').op('.').bytes()),
                "torch.HalfStorage", "not callable");
    }

    @Test
    void stopsPicklesThatWouldFillTheHeap() throws IOException {
        byte[] nones = new byte[RestrictedUnpickler.MAX_OPERATIONS + 10];
        Arrays.fill(nones, (byte) 'N');
        assertRejected(withPickle("nones.bin", nones), "more than " + RestrictedUnpickler.MAX_OPERATIONS + " pickle operations");
    }

    @Test
    void survivesSelfReferencingAndDeeplyNestedPickles() throws IOException {
        PickleBytes deep = new PickleBytes().proto();
        for (int i = 0; i < 200_000; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 199_999; i++) {
            deep.op('a');
        }
        deep.op(0x85).op('Q').op('.');
        assertRejected(withPickle("deep.bin", deep.bytes()), "unsupported persistent id");
        byte[] cyclic = new PickleBytes().proto().op(']').op('q').op(0).op('h').op(0).op('a')
                .op('}').op('h').op(0).op('N').op('s').op('.').bytes();
        assertRejected(withPickle("cyclic.bin", cyclic), "dict key of type ArrayList");
    }
}
