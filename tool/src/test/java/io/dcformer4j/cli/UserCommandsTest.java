package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.DCFormer;
import io.dcformer4j.FailingToOpenProvider;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.TinyModelDir;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate, backends, inspect, convert and tokenize through picocli, on the tiny golden model. */
class UserCommandsTest {
    @TempDir
    static Path tmp;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        model = TinyModelDir.create(tmp);
    }

    @Test
    void generateStreamsTheSameTextAsTheApi() {
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--max-new-tokens", "6", "--backend", "cpu",
                "--threads", "1", "Mary has");
        assertThat(r.exit()).as(r.err()).isZero();
        String expected;
        try (Backend be = Backends.open("cpu", BackendOptions.withThreads(1)); DCFormer m = DCFormer.load(model, be);
             GenerationSession s = m.newSession()) {
            expected = s.generate("Mary has", GenerationConfig.greedy(6));
        }
        assertThat(r.out()).isEqualTo(expected + System.lineSeparator());
    }

    @Test
    void generateReadsThePromptFromStdinAndSamplesReproducibly() {
        String[] args = {"generate", "--model", model.toString(), "--max-new-tokens", "8", "--temperature", "1.0",
                "--top-k", "40", "--top-p", "0.95", "--repetition-penalty", "1.1", "--seed", "7", "--backend", "cpu"};
        CliRun a = CliRun.withStdin("Tom has a fox.\n", args);
        CliRun b = CliRun.withStdin("Tom has a fox.\n", args);
        assertThat(a.exit()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out()).isNotBlank();
    }

    @Test
    void generateStopsAtAnEscapedStopStringAndReportsStats() {
        assertThat(GenerateCommand.unescape("a\\nb\\tc\\\\n\\x")).isEqualTo("a\nb\tc\\n\\x");
        CliRun all = CliRun.of("generate", "--model", model.toString(), "--max-new-tokens", "12", "--backend", "cpu", "ab");
        String text = all.out().substring(0, all.out().length() - System.lineSeparator().length());
        assertThat(text).hasSizeGreaterThan(2);
        String stop = text.substring(1, 2).equals("\n") ? "\\n" : text.substring(1, 2);
        CliRun cut = CliRun.of("generate", "--model", model.toString(), "--max-new-tokens", "12", "--backend", "cpu",
                "--stop", stop, "--stats", "ab");
        assertThat(cut.exit()).as(cut.err()).isZero();
        assertThat(cut.out()).isEqualTo(text.substring(0, text.indexOf(text.charAt(1))) + System.lineSeparator());
        assertThat(cut.err()).contains("prompt eval").contains("STOP_STRING");
    }

    @Test
    void generateRejectsBadArgumentsWithOneLineAndExit2() {
        String m = model.toString();
        for (String[] args : new String[][] {
                {"generate", "--model", m, "--temperature", "-1", "x"},
                {"generate", "--model", m, "--top-p", "0", "x"},
                {"generate", "--model", m, "--max-new-tokens", "0", "x"},
                {"generate", "--model", m, "--threads", "-3", "x"},
                {"generate", "--model", tmp.resolve("missing").toString(), "x"},
                {"generate", "--model", m, "--mha", "x"},
                {"generate", "--model", m, "--max-new-tokens", "lots", "x"},
                {"generate", "--model", m},
        }) {
            CliRun r = CliRun.of(args);
            assertThat(r.exit()).as(String.join(" ", args) + " -> " + r.err()).isEqualTo(Main.EXIT_USAGE);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        }
    }

    @Test
    void helpEverywhere() {
        for (String cmd : new String[] {"generate", "backends", "inspect", "convert", "tokenize", "eval-synthetic"}) {
            CliRun r = CliRun.of(cmd, "--help");
            assertThat(r.exit()).isZero();
            assertThat(r.out()).contains("Usage:").contains(cmd);
        }
        assertThat(CliRun.of("--help").out()).contains("generate").contains("eval-synthetic").contains("tokenize");
    }

    @Test
    void backendsListsProvidersAndTheChoice() {
        CliRun r = CliRun.of("backends");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("cpu").contains("available").contains("Would use: ");
    }

    @Test
    void backendsAndGenerateShowAProviderThatFailedToOpenAndTheOneUsedInstead() {
        String warning = FailingToOpenProvider.NAME + ": java.lang.NoClassDefFoundError: " + FailingToOpenProvider.MISSING_CLASS
                + "; using cpu";
        FailingToOpenProvider.switchedOn(() -> {
            CliRun list = CliRun.of("backends");
            assertThat(list.exit()).as(list.err()).isZero();
            assertThat(list.out()).contains("failing-gpu priority 1000  available")
                    .contains("Would use: cpu (next available provider by priority; failing-gpu failed to open: "
                            + "java.lang.NoClassDefFoundError: " + FailingToOpenProvider.MISSING_CLASS + ")");
            CliRun gen = CliRun.of("generate", "--model", model.toString(), "--max-new-tokens", "2", "Mary has");
            assertThat(gen.exit()).as(gen.err()).isZero();
            assertThat(gen.err().lines().toList()).containsExactly(warning);
            CliRun named = CliRun.of("generate", "--model", model.toString(), "--max-new-tokens", "2", "--backend",
                    FailingToOpenProvider.NAME, "Mary has");
            assertThat(named.exit()).isEqualTo(1);
            assertThat(named.err()).contains("backend 'failing-gpu' (requested by name) failed to open");
        });
    }

    @Test
    void inspectShowsConfigParametersDtypesTensorsAndIgnoredEntries() throws Exception {
        CliRun r = CliRun.of("inspect", model.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("dcformer{L=4").contains("Parameters:").contains("F32")
                .contains("tok_embeddings.weight").contains("LGLL").contains("97 ids").contains("Ignored:    0 entries");

        Path withExtras = Files.createDirectories(tmp.resolve("extras"));
        Files.copy(model.resolve("config.json"), withExtras.resolve("config.json"));
        try (InputStream in = getClass().getResourceAsStream("/checkpoints/single/pytorch_model.bin")) {
            Files.copy(in, withExtras.resolve("pytorch_model.bin"));
        }
        CliRun x = CliRun.of("inspect", withExtras.toString());
        // The fixture's tensors are not the tiny model's shapes: listed, and reported as not loadable.
        assertThat(x.exit()).as(x.out() + x.err()).isEqualTo(1);
        assertThat(x.out()).contains("Loads:      NO");
        assertThat(x.out()).containsPattern("layers\\.0\\.attention\\.dyn_w_proj\\.dw_m .* ignored")
                .containsPattern("kv_cache.* ignored");
        assertThat(CliRun.of("inspect", tmp.resolve("nope").toString()).exit()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void inspectCheckAndConvertNameTheFirstNonFiniteWeight() throws Exception {
        CliRun clean = CliRun.of("inspect", "--check", "--no-tensors", model.toString());
        assertThat(clean.exit()).as(clean.err()).isZero();
        assertThat(clean.out()).contains("Check:      every weight of all");

        Path bad = TinyModelDir.poisoned(tmp, "nan", "layers.3.attention.wqkv.weight", Float.NaN);
        CliRun check = CliRun.of("inspect", "--check", "--no-tensors", bad.toString());
        assertThat(check.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(check.out()).contains("NOT FINITE: tensor 'layers.3.attention.wqkv.weight'").contains("NaN");

        CliRun refused = CliRun.of("convert", "--in", bad.toString(), "--out", tmp.resolve("nan-out").toString());
        assertThat(refused.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(refused.err()).contains("layers.3.attention.wqkv.weight").contains("not converted");
        CliRun forced = CliRun.of("convert", "--allow-non-finite", "--in", bad.toString(), "--out",
                tmp.resolve("nan-out").toString());
        assertThat(forced.exit()).as(forced.err()).isZero();
        assertThat(forced.out()).contains("Warning: tensor 'layers.3.attention.wqkv.weight'");
    }

    @Test
    void convertWritesSafetensors() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("bin"));
        Files.copy(model.resolve("config.json"), in.resolve("config.json"));
        try (InputStream s = getClass().getResourceAsStream("/checkpoints/single/pytorch_model.bin")) {
            Files.copy(s, in.resolve("pytorch_model.bin"));
        }
        Path out = tmp.resolve("converted");
        CliRun r = CliRun.of("convert", "--in", in.toString(), "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("Wrote").contains("Dropped").contains("config.json");
        assertThat(out.resolve("model.safetensors")).exists();
        assertThat(CliRun.of("convert", "--in", tmp.resolve("none").toString(), "--out", out.toString()).exit())
                .isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.of("convert", "--out", out.toString()).exit()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void tokenizeAndDecodeLines() throws Exception {
        Path tok = tmp.resolve("gpt2.json");
        try (InputStream in = getClass().getResourceAsStream("/tokenizer/gpt2/tokenizer.json")) {
            Files.copy(in, tok);
        }
        CliRun enc = CliRun.withStdin("Hello world\n\n<|endoftext|> ü\n", "tokenize", "--tokenizer", tok.toString());
        assertThat(enc.exit()).as(enc.err()).isZero();
        assertThat(enc.out().lines().toList()).containsExactly("15496 995", "", "50256 6184 120");
        CliRun dec = CliRun.withStdin("15496 995\n\n50256 6184 120\n", "tokenize", "--tokenizer", tok.toString(), "--decode");
        assertThat(dec.out().lines().toList()).containsExactly("Hello world", "", "<|endoftext|> ü");
        CliRun bad = CliRun.withStdin("12 x\n", "tokenize", "--tokenizer", tok.toString(), "--decode");
        assertThat(bad.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(bad.err()).contains("line 1").contains("'x'");
        assertThat(CliRun.of("tokenize").exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(CliRun.of("tokenize", "--tokenizer", tmp.resolve("none.json").toString()).exit()).isEqualTo(Main.EXIT_USAGE);
    }
}
