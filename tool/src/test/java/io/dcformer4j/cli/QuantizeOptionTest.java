package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --quantize} on the commands that load a model, and {@code convert --quantize q8_0}: a converted Q8_0
 * file gives the very logits {@code logits --quantize q8_0} gives on the original; a bad value is a usage
 * error naming the choices.
 */
class QuantizeOptionTest {
    private static Path golden(Path dir) throws IOException {
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            try (InputStream in = QuantizeOptionTest.class.getResourceAsStream("/golden/dcformer_tiny/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        return dir;
    }

    @Test
    void convertedFileMatchesQuantizeAtLoad(@TempDir Path tmp) throws IOException {
        Path src = golden(Files.createDirectories(tmp.resolve("golden")));
        Path q8 = tmp.resolve("q8");
        CliRun c = CliRun.of("convert", "--in", src.toString(), "--out", q8.toString(), "--quantize", "q8_0");
        assertThat(c.exit()).as(c.err()).isZero();
        String tokens = "3,17,5,60,42,8,91,23";
        CliRun a = CliRun.of("logits", "--model", q8.toString(), "--tokens", tokens, "--out", tmp.resolve("a.npy").toString());
        CliRun b = CliRun.of("logits", "--model", src.toString(), "--quantize", "q8_0", "--tokens", tokens, "--out",
                tmp.resolve("b.npy").toString());
        CliRun f = CliRun.of("logits", "--model", src.toString(), "--tokens", tokens, "--out", tmp.resolve("f.npy").toString());
        assertThat(a.exit()).as(a.err()).isZero();
        assertThat(b.exit()).as(b.err()).isZero();
        assertThat(f.exit()).as(f.err()).isZero();
        assertThat(Files.readAllBytes(tmp.resolve("a.npy"))).isEqualTo(Files.readAllBytes(tmp.resolve("b.npy")));
        assertThat(Files.readAllBytes(tmp.resolve("a.npy"))).isNotEqualTo(Files.readAllBytes(tmp.resolve("f.npy")));
        CliRun i = CliRun.of("inspect", q8.toString());
        assertThat(i.exit()).as(i.err()).isZero();
        assertThat(i.out()).contains("Q8_0");
    }

    @Test
    void generateAndEvalTakeTheOption(@TempDir Path tmp) throws IOException {
        CliRun g = CliRun.of("generate", "--quantize", "q8_0", "-n", "3", "--backend", "cpu",
                "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of");
        assertThat(g.exit()).as(g.err()).isZero();
        assertThat(g.out()).isNotBlank();
        Path data = tmp.resolve("heldout.jsonl"); // the resource may sit inside the model-zoo jar
        try (InputStream in = getClass().getResourceAsStream("/io/dcformer4j/demo/heldout.jsonl")) {
            Files.copy(in, data);
        }
        CliRun e = CliRun.of("eval-synthetic", "--quantize", "Q8_0", "--backend", "cpu", "--data", data.toString(), "--limit",
                "30", "--json");
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(e.out()).contains("\"macro_accuracy\"").contains("\"mean_answer_logprob\"");
    }

    @Test
    void anUnknownValueIsAUsageError() {
        String[][] runs = {{"generate", "--quantize", "q4_k", "p"}, {"eval-synthetic", "--quantize", "q4_k", "--data", "x"},
            {"logits", "--quantize", "q4_k", "--model", "x", "--tokens", "1", "--out", "x"},
            {"convert", "--quantize", "q4_k", "--in", "x", "--out", "y"}};
        for (String[] args : runs) {
            CliRun r = CliRun.of(args);
            assertThat(r.exit()).as(args[0] + ": " + r.err()).isEqualTo(2);
            assertThat(r.err()).as(args[0]).contains("q4_k").contains("q8_0");
        }
    }
}
