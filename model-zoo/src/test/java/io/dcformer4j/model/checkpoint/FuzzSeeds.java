package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.tokenizer.TinyTokenizers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Writes the committed seed corpus of every fuzz target under {@code src/test/resources/.../*FuzzTestInputs/}:
 * the hostile files the hand-written tests make (truncated, overlapping and absurd safetensors, broken and
 * path-escaping indexes, forbidden globals, malformed pickles, corrupt zips, bad configs and tokenizers) and
 * the small valid fixtures. Not part of the normal test run (the name does not end in Test); regenerate with
 * {@code ./mvnw -pl model-zoo -am test -Dtest=FuzzSeeds -Dsurefire.failIfNoSpecifiedTests=false}. Files are
 * named {@code seed-*} so that Jazzer's findings ({@code crash-*}, {@code timeout-*}) stay apart.
 */
class FuzzSeeds {

    private static final Path RESOURCES = Path.of("src/test/resources");
    private static final Path CHECKPOINTS = RESOURCES.resolve("checkpoints");

    @Test
    void write() throws IOException {
        safetensors();
        shardedIndex();
        pickles();
        archives();
        configs();
        tokenizerJson();
        tokenizerTexts();
    }

    private static Path inputs(String pkg, String target, String method) throws IOException {
        return Files.createDirectories(RESOURCES.resolve(pkg.replace('.', '/')).resolve(target + "Inputs").resolve(method));
    }

    private static void seed(Path dir, String name, byte[] bytes) throws IOException {
        Files.write(dir.resolve("seed-" + name), bytes);
    }

    private static void seed(Path dir, String name, String text) throws IOException {
        seed(dir, name, text.getBytes(StandardCharsets.UTF_8));
    }

    private static final String ONE = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    private static void safetensors() throws IOException {
        Path d = inputs("io.dcformer4j.model.checkpoint", "SafetensorsFuzzTest", "safetensorsFile");
        seed(d, "extras", Files.readAllBytes(CHECKPOINTS.resolve("expected_extras.safetensors")));
        seed(d, "scalars-and-empty", SafetensorsBytes.of("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                + "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[4,4]},"
                + "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"__metadata__\":{\"format\":\"pt\"}}", SafetensorsBytes.f32(2.5f, 1f)));
        seed(d, "short", new byte[] {1, 0, 0});
        seed(d, "header-past-end", SafetensorsBytes.of(1000, ONE, new byte[8]));
        seed(d, "header-absurd", SafetensorsBytes.of(200L << 20, ONE, new byte[8]));
        seed(d, "header-negative", SafetensorsBytes.of(-1L, ONE, new byte[8]));
        seed(d, "bad-json", SafetensorsBytes.of("{\"t\":{\"dtype\":\"F32\",", new byte[8]));
        seed(d, "array", SafetensorsBytes.of("[1,2]", new byte[8]));
        seed(d, "empty-header", SafetensorsBytes.of("", new byte[8]));
        seed(d, "entry-not-object", SafetensorsBytes.of("{\"t\":3}", new byte[8]));
        seed(d, "metadata-not-string", SafetensorsBytes.of("{\"__metadata__\":{\"a\":1}}", new byte[0]));
        seed(d, "deep", SafetensorsBytes.of("{\"t\":" + "[".repeat(3000) + "]".repeat(3000) + "}", new byte[0]));
        String t = "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
        seed(d, "duplicate", SafetensorsBytes.of("{" + t + "," + t + "}", new byte[8]));
        seed(d, "dtype-unknown", SafetensorsBytes.of(ONE.replace("F32", "Q4"), new byte[8]));
        seed(d, "dtype-i64", SafetensorsBytes.of(ONE.replace("F32", "I64").replace("[2]", "[1]"), new byte[8]));
        seed(d, "dtype-number", SafetensorsBytes.of(ONE.replace("\"F32\"", "7"), new byte[8]));
        seed(d, "shape-span", SafetensorsBytes.of(ONE.replace("[2]", "[3]"), new byte[12]));
        seed(d, "shape-negative", SafetensorsBytes.of(ONE.replace("[2]", "[-2]"), new byte[8]));
        seed(d, "shape-fraction", SafetensorsBytes.of(ONE.replace("[2]", "[2.5]"), new byte[8]));
        seed(d, "shape-huge", SafetensorsBytes.of(ONE.replace("[2]", "[2147483647,2147483647,2147483647]"), new byte[8]));
        seed(d, "shape-missing", SafetensorsBytes.of(ONE.replace("\"shape\":[2],", ""), new byte[8]));
        seed(d, "offsets-out", SafetensorsBytes.of(ONE.replace("[0,8]", "[8,16]"), new byte[8]));
        seed(d, "offsets-near-max", SafetensorsBytes.of(ONE.replace("[0,8]", "[9223372036854775800,9223372036854775807]"), new byte[8]));
        seed(d, "offsets-bigint", SafetensorsBytes.of(ONE.replace("[0,8]", "[0,99999999999999999999999]"), new byte[8]));
        seed(d, "offsets-negative", SafetensorsBytes.of(ONE.replace("[0,8]", "[-8,0]"), new byte[8]));
        seed(d, "offsets-reversed", SafetensorsBytes.of(ONE.replace("[0,8]", "[8,0]"), new byte[8]));
        seed(d, "offsets-one", SafetensorsBytes.of(ONE.replace("[0,8]", "[0]"), new byte[8]));
        seed(d, "overlap", SafetensorsBytes.of("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]));
        seed(d, "overlap-contained", SafetensorsBytes.of("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[16]));
        byte[] extras = Files.readAllBytes(CHECKPOINTS.resolve("expected_extras.safetensors"));
        seed(d, "truncated", Arrays.copyOf(extras, extras.length - 10));
        byte[] noise = new byte[512];
        new Random(3).nextBytes(noise);
        java.nio.ByteBuffer.wrap(noise).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, 100);
        seed(d, "garbage", noise);
    }

    private static String index(String weightMap) {
        return "{\"metadata\":{\"total_size\":16},\"weight_map\":{" + weightMap + "}}";
    }

    private static void shardedIndex() throws IOException {
        Path d = inputs("io.dcformer4j.model.checkpoint", "ShardedIndexFuzzTest", "shardedIndex");
        String good = "\"a\":\"model-00001-of-00002.safetensors\",\"b\":\"model-00001-of-00002.safetensors\","
                + "\"c\":\"model-00002-of-00002.safetensors\"";
        seed(d, "good", index(good));
        seed(d, "missing-shard", index(good + ",\"d\":\"model-00003-of-00002.safetensors\""));
        seed(d, "absent-tensor", index("\"a\":\"model-00002-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\""));
        seed(d, "outside", index("\"a\":\"../outside.safetensors\""));
        seed(d, "absolute", index("\"a\":\"/tmp/outside.safetensors\""));
        seed(d, "another-index", index("\"a\":\"model.safetensors.index.json\""));
        seed(d, "subset", index("\"a\":\"model-00001-of-00002.safetensors\",\"c\":\"model-00002-of-00002.safetensors\""));
        seed(d, "bad-json", "{\"weight_map\":");
        seed(d, "no-weight-map", "{\"metadata\":{}}");
        seed(d, "not-a-name", index("\"a\":5"));
        seed(d, "empty-map", index(""));
        seed(d, "directory", index("\"a\":\".\""));
        seed(d, "nul", index("\"a\":\"model\\u0000.safetensors\""));
        seed(d, "pytorch-index", Files.readAllBytes(CHECKPOINTS.resolve("sharded/pytorch_model.bin.index.json")));
    }

    /** The pickle of every fixture archive, and the hand-made ones of the unpickler tests. */
    private static void pickles() throws IOException {
        Path d = inputs("io.dcformer4j.model.checkpoint", "UnpicklerFuzzTest", "unpickle");
        for (String f : new String[] {"single/pytorch_model.bin", "extras.bin", "extras_protocol4.bin",
                "forbidden_custom_class.bin", "forbidden_os_system.bin"}) {
            for (var e : ZipBytes.entries(CHECKPOINTS.resolve(f)).entrySet()) {
                if (e.getKey().endsWith("/data.pkl")) {
                    seed(d, f.replace('/', '-').replace(".bin", ".pkl"), e.getValue());
                }
            }
        }
        for (var e : handPickles().entrySet()) {
            seed(d, e.getKey() + ".pkl", e.getValue());
        }
    }

    private static Map<String, byte[]> handPickles() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("tensor", new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 1, new int[] {3}, new int[] {1}).op('u').op('.').bytes());
        m.put("view-outside", new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 2, new int[] {3}, new int[] {1}).op('u').op('.').bytes());
        m.put("expanded", new PickleBytes().proto().orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 4, 0, new int[] {1000000, 1000000}, new int[] {0, 0}).op('u').op('.').bytes());
        m.put("storage-twice", new PickleBytes().proto().orderedDict().mark()
                .str("a").tensor("HalfStorage", "0", 8, 0, new int[] {8}, new int[] {1})
                .str("b").tensor("FloatStorage", "0", 4, 0, new int[] {4}, new int[] {1}).op('u').op('.').bytes());
        m.put("eval", new PickleBytes().proto().global("builtins", "eval").str("1").op(0x85).op('R').op('.').bytes());
        m.put("stack-global", new PickleBytes().proto().str("subprocess").str("Popen").op(0x93).op('.').bytes());
        m.put("opcode-i", new PickleBytes().proto().op('i').bytes());
        m.put("truncated", new PickleBytes().proto().op('X').op(0xFF).op(0xFF).op(0xFF).op(0x7F).bytes());
        m.put("no-stop", new PickleBytes().proto().op('N').bytes());
        m.put("underflow", new PickleBytes().proto().op('R').bytes());
        m.put("memo", new PickleBytes().proto().op('h').op(7).bytes());
        m.put("list", new PickleBytes().proto().op(']').op('.').bytes());
        m.put("not-tensor", new PickleBytes().proto().op('}').str("a").integer(3).op('s').op('.').bytes());
        m.put("call-storage", new PickleBytes().proto().global("torch", "HalfStorage").op(')').op('R').op('.').bytes());
        PickleBytes deep = new PickleBytes().proto();
        for (int i = 0; i < 2000; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 1999; i++) {
            deep.op('a');
        }
        m.put("deep", deep.op(0x85).op('Q').op('.').bytes());
        m.put("cyclic", new PickleBytes().proto().op(']').op('q').op(0).op('h').op(0).op('a')
                .op('}').op('h').op(0).op('N').op('s').op('.').bytes());
        return m;
    }

    private static void archives() throws IOException {
        Path d = inputs("io.dcformer4j.model.checkpoint", "TorchArchiveFuzzTest", "torchArchive");
        for (String f : new String[] {"extras.bin", "extras_protocol4.bin", "forbidden_custom_class.bin", "forbidden_os_system.bin"}) {
            seed(d, f, Files.readAllBytes(CHECKPOINTS.resolve(f)));
        }
        Path tmp = Files.createTempFile("seed", ".bin");
        try {
            for (var e : handPickles().entrySet()) {
                Map<String, byte[]> entries = new LinkedHashMap<>();
                entries.put("archive/data.pkl", e.getValue());
                entries.put("archive/data/0", new byte[16]);
                seed(d, e.getKey() + ".bin", Files.readAllBytes(ZipBytes.write(tmp, entries)));
            }
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("archive/data.pkl", handPickles().get("tensor"));
            entries.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            entries.put("archive/data/0", new byte[16]);
            byte[] ok = Files.readAllBytes(ZipBytes.write(tmp, entries));
            seed(d, "zip64.bin", Zip64Bytes.rewrite(ok));
            seed(d, "deflated.bin", Files.readAllBytes(ZipBytes.write(tmp, entries, "archive/data/0")));
            entries.put("archive/byteorder", "big".getBytes(StandardCharsets.US_ASCII));
            seed(d, "big-endian.bin", Files.readAllBytes(ZipBytes.write(tmp, entries)));
            seed(d, "cut.bin", Arrays.copyOf(ok, ok.length / 2));
            byte[] cd = ok.clone();
            cd[cd.length - 22 + 16] = (byte) 0xF0;
            cd[cd.length - 22 + 19] = (byte) 0x7F;
            seed(d, "central-directory-outside.bin", cd);
            seed(d, "legacy.bin", new PickleBytes().proto().integer(1).op('.').bytes());
        } finally {
            Files.delete(tmp);
        }
    }

    private static void configs() throws IOException {
        Path d = inputs("io.dcformer4j.model", "ModelConfigFuzzTest", "configJson");
        seed(d, "golden.json", Files.readAllBytes(RESOURCES.resolve("golden/dcformer_tiny/config.json")));
        try (Stream<Path> oracles = Files.list(RESOURCES.resolve("oracle"))) {
            for (Path o : oracles.sorted().toList()) {
                seed(d, o.getFileName() + ".json", Files.readAllBytes(o.resolve("config.json")));
            }
        }
        seed(d, "empty-object.json", "{}");
        seed(d, "pythia.json", "{\"model_type\":\"dcpythia\",\"rotary_pct\":0.25,\"dim\":64,\"n_head\":4}");
        seed(d, "architectures.json", "{\"architectures\":[\"DCPythiaForCausalLM\"],\"window_size\":null}");
        seed(d, "bad-type.json", "{\"model_type\":\"llama\"}");
        seed(d, "indivisible.json", "{\"dim\":100,\"n_head\":3}");
        seed(d, "odd-rotary.json", "{\"model_type\":\"dcpythia\",\"dim\":48,\"n_head\":4,\"rotary_pct\":0.5}");
        seed(d, "mgate.json", "{\"mgate\":true,\"mgate_dim\":7,\"intermediate_size\":160,\"dim\":64,\"n_head\":4}");
        seed(d, "window-type.json", "{\"window_type\":\"LGL6\",\"window_size\":-1}");
        seed(d, "not-json.json", "{not json");
        seed(d, "array.json", "[1,2,3]");
    }

    private static void tokenizerJson() throws IOException {
        Path d = inputs("io.dcformer4j.tokenizer", "TokenizerJsonFuzzTest", "tokenizerJson");
        ObjectNode ascii = TinyTokenizers.ascii97();
        seed(d, "ascii97.json", ascii.toString());
        ObjectNode merges = ascii.deepCopy();
        ObjectNode model = (ObjectNode) merges.get("model");
        ((ObjectNode) model.get("vocab")).put("ab", 97).put("abc", 98).put("bc", 99);
        var m = model.putArray("merges");
        m.addArray().add("b").add("c");
        m.addArray().add("a").add("bc");
        seed(d, "merges-array.json", merges.toString());
        model.put("ignore_merges", true).putArray("merges").add("b c").add("a bc");
        merges.putObject("normalizer").put("type", "NFC");
        seed(d, "merges-strings-nfc.json", merges.toString());
        ObjectNode split = ascii.deepCopy();
        ObjectNode seq = split.putObject("pre_tokenizer").put("type", "Sequence");
        var pts = seq.putArray("pretokenizers");
        pts.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false)
                .putObject("pattern").put("Regex", "\\p{N}{1,3}");
        pts.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false);
        seed(d, "split-sequence.json", split.toString());
        ObjectNode added = ascii.deepCopy();
        added.withArray("added_tokens").addObject().put("id", 97).put("content", "  ").put("special", false)
                .put("normalized", true).put("lstrip", true).put("rstrip", true);
        seed(d, "added-normalized.json", added.toString());
        seed(d, "no-decoder.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": []}}");
        seed(d, "unigram.json", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        seed(d, "merge-missing.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}");
        seed(d, "not-json.json", "{not json");
        ObjectNode meta = ascii.deepCopy();
        meta.putObject("pre_tokenizer").put("type", "Metaspace");
        seed(d, "metaspace.json", meta.toString());
        ObjectNode fallback = ascii.deepCopy();
        ((ObjectNode) fallback.get("model")).put("byte_fallback", true).put("unk_token", "<|endoftext|>");
        seed(d, "byte-fallback.json", fallback.toString());
    }

    private static void tokenizerTexts() throws IOException {
        Path d = inputs("io.dcformer4j.tokenizer", "TokenizerFuzzTest", "encodeDecode");
        seed(d, "ascii", "\u0001Hello, world! It's 2026 -- isn't it?\n\n  indented\ttab");
        seed(d, "unicode", "\u0000h\u00e9llo \u4e16\u754c \ud83d\ude00 caf\u0065\u0301 \u0627\u0644\u0639\u0631\u0628\u064a\u0629");
        seed(d, "special", "\u0000<|endoftext|>x<|im_start|>user\n<|im_end|><|endoftext|");
        seed(d, "digits", "\u0001123456789 3.14159 1e10 0x1F");
        seed(d, "spaces", "\u0000" + " ".repeat(40) + "\n".repeat(5) + "\r\n\t\u00a0\u3000");
        seed(d, "ids", new byte[] {0, 0, 0, (byte) 0xC3, 0x28, (byte) 0xFF, (byte) 0xFE, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
            (byte) 0x80, (byte) 0x90, (byte) 0xA0, (byte) 0xB0, 0x7F, 0x7F, 0x7F, 0x7F});
    }
}
