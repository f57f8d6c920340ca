package io.dcformer4j.model.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.Session;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The golden tiny model written as a PyTorch {@code .bin} the way the released checkpoints are (plus derived
 * {@code dw_m}/{@code qkw_m} holding garbage, identity projections and cache buffers that must all be
 * ignored), loaded through the model: its logits must equal, bit for bit, those of the safetensors original,
 * and so must those of the file {@link CheckpointConverter} makes from it.
 */
class GoldenModelFromBinTest {

    private static final Path GOLDEN = TestResources.path("golden/dcformer_tiny");
    private static final Pattern WQKV = Pattern.compile("(layers\\.\\d+\\.attention\\.)wqkv\\.weight");
    private static final int[] TOKENS = {5, 17, 3, 96, 0, 44, 12, 12, 7, 61, 30, 2, 88, 9, 1, 50};

    private static Backend backend;
    private static float[][] expected;

    @TempDir
    Path dir;

    @BeforeAll
    static void reference() {
        backend = Backends.open("cpu");
        expected = logits(GOLDEN);
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    private static float[][] logits(Path modelDir) {
        try (DCFormerModel model = DCFormerModel.load(modelDir, backend); Session s = model.newSession()) {
            return s.prefill(TOKENS);
        }
    }

    private static byte[] bytes(WeightSource w, String name) {
        return w.data(name).toArray(ValueLayout.JAVA_BYTE);
    }

    private Path writeBin(boolean splitQkv) throws IOException {
        List<TorchBinWriter.Tensor> tensors = new ArrayList<>();
        try (WeightSource w = WeightSource.open(GOLDEN.resolve("model.safetensors"))) {
            for (TensorInfo t : w.tensors().values()) {
                Matcher m = WQKV.matcher(t.name());
                if (splitQkv && m.matches()) {
                    int rows = t.shape().dim(0) / 3;
                    long part = (long) rows * t.shape().dim(1) * 4;
                    byte[] all = bytes(w, t.name());
                    String[] roles = {"wq", "wk", "wv"};
                    for (int r = 0; r < 3; r++) {
                        tensors.add(new TorchBinWriter.Tensor(m.group(1) + roles[r] + ".weight", "FloatStorage", 4,
                                new int[] {rows, t.shape().dim(1)},
                                Arrays.copyOfRange(all, (int) (r * part), (int) ((r + 1) * part))));
                    }
                } else {
                    tensors.add(new TorchBinWriter.Tensor(t.name(), "FloatStorage", 4, t.shape().dims(), bytes(w, t.name())));
                }
            }
        }
        for (int i = 0; i < 4; i++) {
            String p = "layers." + i + ".attention.";
            byte[] garbage = new byte[64 * 80 * 4]; // [E, 4K + 4N]
            Arrays.fill(garbage, (byte) 0x41);
            tensors.add(new TorchBinWriter.Tensor(p + "dyn_w_proj.dw_m", "FloatStorage", 4, new int[] {64, 80}, garbage));
            tensors.add(new TorchBinWriter.Tensor(p + "dyn_w_proj.qkw_m", "FloatStorage", 4, new int[] {4, 16, 16},
                    Arrays.copyOf(garbage, 4 * 16 * 16 * 4))); // [4, K, 2I·N]
            byte[] identity = SafetensorsBytes.f32(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
            tensors.add(new TorchBinWriter.Tensor(p + "dyn_w_proj.pre_proj.w", "FloatStorage", 4, new int[] {1, 4, 4}, identity));
            tensors.add(new TorchBinWriter.Tensor(p + "dyn_w_proj.post_proj.w", "FloatStorage", 4, new int[] {1, 4, 4}, identity));
            tensors.add(new TorchBinWriter.Tensor(p + "kv_cache.k_cache", "HalfStorage", 2, new int[] {1, 4, 8, 16},
                    new byte[4 * 8 * 16 * 2]));
        }
        Path model = Files.createDirectories(dir.resolve(splitQkv ? "split" : "fused"));
        Files.copy(GOLDEN.resolve("config.json"), model.resolve("config.json"));
        TorchBinWriter.write(model.resolve("pytorch_model.bin"), "archive", tensors);
        return model;
    }

    @Test
    void binCheckpointGivesTheSameLogitsAsSafetensors() throws IOException {
        Path model = writeBin(false);
        try (WeightSource w = WeightSource.open(model)) {
            assertThat(w).isInstanceOf(TorchCheckpoint.class);
            assertThat(w.tensors().get("output.weight").offset() % 64).isZero();
        }
        assertThat(logits(model)).isDeepEqualTo(expected);
    }

    @Test
    void splitProjectionsGiveTheSameLogits() throws IOException {
        assertThat(logits(writeBin(true))).isDeepEqualTo(expected);
    }

    @Test
    void convertedBinGivesTheSameLogits() throws IOException {
        Path out = dir.resolve("converted");
        CheckpointConverter.Report r = CheckpointConverter.convert(writeBin(true), out);
        assertThat(r.dropped()).hasSize(4 * 5);
        assertThat(r.copied()).containsExactly("config.json");
        assertThat(logits(out)).isDeepEqualTo(expected);
    }
}
