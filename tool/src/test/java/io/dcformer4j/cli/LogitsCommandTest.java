package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.model.checkpoint.WeightSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code logits} command end to end on the golden tiny model, and its handling of bad input. */
class LogitsCommandTest {
    private static final Path GOLDEN = golden();

    /**
     * The golden tiny model copied out of the model-zoo test jar into a temporary directory (a resource
     * inside a jar is no {@code Path} the loader can map).
     */
    private static Path golden() {
        try {
            Path dir = Files.createTempDirectory("dcformer4j-golden-tiny");
            for (String f : new String[] {"config.json", "model.safetensors", "reference.safetensors"}) {
                try (InputStream in = LogitsCommandTest.class.getResourceAsStream("/golden/dcformer_tiny/" + f)) {
                    if (in == null) {
                        throw new IllegalStateException("test resource /golden/dcformer_tiny/" + f + " is missing");
                    }
                    Path file = dir.resolve(f);
                    Files.copy(in, file);
                    file.toFile().deleteOnExit();
                }
            }
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static float[] reference(String name) {
        try (WeightSource src = WeightSource.open(GOLDEN.resolve("reference.safetensors"))) {
            return src.data(name).toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        }
    }

    private static String tokens() {
        try (WeightSource src = WeightSource.open(GOLDEN.resolve("reference.safetensors"))) {
            int[] ids = src.data("tokens").toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
        }
    }

    /** Reads a little-endian float32 .npy, checking its header; returns {rows, cols} in shape. */
    private static float[] readNpy(Path file, int[] shape) throws IOException {
        byte[] all = Files.readAllBytes(file);
        assertThat(Arrays.copyOf(all, 8)).containsExactly(0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0);
        int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
        assertThat((10 + headerLen) % 64).isZero();
        String header = new String(all, 10, headerLen, StandardCharsets.US_ASCII);
        assertThat(header).contains("'descr': '<f4'").contains("'fortran_order': False").endsWith("\n");
        Matcher m = Pattern.compile("'shape': \\((\\d+), (\\d+)\\)").matcher(header);
        assertThat(m.find()).as(header).isTrue();
        shape[0] = Integer.parseInt(m.group(1));
        shape[1] = Integer.parseInt(m.group(2));
        ByteBuffer data = ByteBuffer.wrap(all, 10 + headerLen, all.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        float[] v = new float[data.remaining() / 4];
        data.asFloatBuffer().get(v);
        assertThat(v).hasSize(shape[0] * shape[1]);
        return v;
    }

    private static double maxAbs(float[] a, float[] b) {
        assertThat(a).hasSameSizeAs(b);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    @Test
    void prefillLogitsAreWrittenAsNpy(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("logits.npy");
        Result r = run("logits", "--model", GOLDEN.toString(), "--tokens", tokens(), "--out", out.toString(),
                "--backend", "cpu", "--threads", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        int[] shape = new int[2];
        float[] logits = readNpy(out, shape);
        assertThat(shape).containsExactly(40, 97);
        assertThat(maxAbs(logits, reference("prefill_logits"))).isLessThan(1e-4);
    }

    @Test
    void prefillThenDecodeRowsFollowInputPositions(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("decode.npy");
        Result r = run("logits", "--model", GOLDEN.toString(), "--tokens", tokens(), "--prefill", "24",
                "--out", out.toString(), "--backend", "cpu");
        assertThat(r.exit()).as(r.err()).isZero();
        float[] logits = readNpy(out, new int[2]);
        float[] p24 = reference("prefill24_logits");
        float[] decode = reference("decode_logits");
        float[] expected = Arrays.copyOf(p24, p24.length + decode.length);
        System.arraycopy(decode, 0, expected, p24.length, decode.length);
        assertThat(maxAbs(logits, expected)).isLessThan(1e-4);
    }

    @Test
    void badArgumentsGiveOneLineAndExitCode2(@TempDir Path dir) {
        String out = dir.resolve("x.npy").toString();
        String model = GOLDEN.toString();
        String[][] cases = {
            {"logits", "--model", model, "--tokens", "1,2"},
            {"logits", "--model", model, "--tokens", "1,x,3", "--out", out},
            {"logits", "--model", model, "--tokens", "1,2,3", "--prefill", "4", "--out", out},
            {"logits", "--model", model, "--tokens", "1,97", "--out", out},
            {"logits", "--model", dir.resolve("nothing").toString(), "--tokens", "1", "--out", out},
            {"logits", "--model", model, "--tokens", "1", "--out", out, "--threads", "-2"},
            {"logits", "--model", model, "--tokens", "1", "--out", out, "--bogus"},
            {"nosuchcommand"},
            {},
        };
        for (String[] args : cases) {
            Result r = run(args);
            assertThat(r.exit()).as(String.join(" ", args) + " -> " + r.err()).isEqualTo(2);
            assertThat(r.err().strip()).as(String.join(" ", args)).isNotEmpty().doesNotContain("\n");
            assertThat(Files.exists(dir.resolve("x.npy"))).isFalse();
        }
        assertThat(run("logits", "--model", model, "--tokens", "1,97", "--out", out).err())
                .contains("97").contains("position 1");
    }

    @Test
    void failuresWhileRunningExitWith1(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"dcformer\", \"dim\": 30, \"n_head\": 4}");
        Result r = run("logits", "--model", dir.toString(), "--tokens", "1", "--out", dir.resolve("x.npy").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("dim=30");
        Result noBackend = run("logits", "--model", GOLDEN.toString(), "--tokens", "1", "--out",
                dir.resolve("y.npy").toString(), "--backend", "no-such-backend");
        assertThat(noBackend.exit()).isEqualTo(1);
        assertThat(noBackend.err()).contains("no-such-backend");
    }

    @Test
    void helpIsPrinted() {
        Result top = run("--help");
        assertThat(top.exit()).isZero();
        assertThat(top.out()).contains("dcformer4j").contains("logits");
        Result sub = run("logits", "--help");
        assertThat(sub.exit()).isZero();
        assertThat(sub.out()).contains("--model").contains("--tokens").contains("--prefill").contains("--out");
    }
}
