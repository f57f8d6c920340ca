package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.TinyModelDir;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The conventions users bring from llama.cpp and friends: short options, -f, seeds, stats, -i, | head. */
class CliConventionsTest {
    @TempDir
    static Path tmp;
    private static String model;

    @BeforeAll
    static void tinyModel() throws IOException {
        model = TinyModelDir.create(tmp).toString();
    }

    @Test
    void shortOptionsMeanWhatTheLongOnesDo() {
        CliRun longForm = CliRun.of("generate", "--model", model, "--max-new-tokens", "5", "--seed", "3",
                "--threads", "1", "--ctx-size", "32", "--backend", "cpu", "--temperature", "0.8", "abc");
        CliRun shortForm = CliRun.of("generate", "-m", model, "-n", "5", "-s", "3", "-t", "1", "-c", "32",
                "--backend", "cpu", "--temperature", "0.8", "-p", "abc");
        assertThat(longForm.exit()).as(longForm.err()).isZero();
        assertThat(shortForm.exit()).as(shortForm.err()).isZero();
        assertThat(shortForm.out()).isEqualTo(longForm.out()).isNotBlank();
    }

    @Test
    void aPromptFileGivesTheSameTextAsTheArgument() throws IOException {
        Path file = tmp.resolve("prompt.txt");
        Files.writeString(file, "hello wörld", StandardCharsets.UTF_8);
        CliRun fromFile = CliRun.of("generate", "-m", model, "-n", "4", "--backend", "cpu", "-f", file.toString());
        CliRun fromArg = CliRun.of("generate", "-m", model, "-n", "4", "--backend", "cpu", "hello wörld");
        assertThat(fromFile.exit()).as(fromFile.err()).isZero();
        assertThat(fromFile.out()).isEqualTo(fromArg.out());
        CliRun twice = CliRun.of("generate", "-m", model, "-f", file.toString(), "abc");
        assertThat(twice.exit()).isEqualTo(2);
        assertThat(CliRun.of("generate", "-m", model, "-f", tmp.resolve("none.txt").toString()).exit()).isEqualTo(2);
    }

    @Test
    void statsSplitPromptEvalFromEvalAndPrintARandomSeedThatRepeatsTheRun() {
        String[] args = {"generate", "-m", model, "-n", "6", "--backend", "cpu", "--temperature", "1.5", "--stats", "abc"};
        CliRun first = CliRun.of(args);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.err()).contains("load time", "prompt eval", "time to first token", "tokens/s")
                .containsPattern("(?m)^eval +=.*/ +[0-5] tokens"); // at most 5 after the first; a sampled special token may end it sooner
        assertThat(first.err()).containsPattern("prompt eval += +[0-9.]+ ms / +3 tokens");
        long seed = seedOf(first.err());
        CliRun second = CliRun.of(args);
        assertThat(seedOf(second.err())).as("a random seed by default").isNotEqualTo(seed);
        CliRun repeat = CliRun.of("generate", "-m", model, "-n", "6", "--backend", "cpu", "--temperature", "1.5",
                "--stats", "-s", Long.toString(seed), "abc");
        assertThat(seedOf(repeat.err())).isEqualTo(seed);
        assertThat(repeat.out()).as("--seed repeats the run").isEqualTo(first.out());
    }

    @Test
    void aContextLargerThanTheModelsIsABadArgument() {
        CliRun r = CliRun.of("generate", "-m", model, "-c", "65", "--backend", "cpu", "abc");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("65", "block_size 64");
        CliRun tooLong = CliRun.of("generate", "-m", model, "-c", "4", "-n", "8", "--backend", "cpu", "abcdef");
        assertThat(tooLong.exit()).as("a prompt longer than the context is refused").isNotZero();
    }

    @Test
    void generationStopsWhenStdoutIsClosed() {
        int[] writes = new int[1];
        Writer closedPipe = new Writer() {
            @Override
            public void write(char[] buf, int off, int len) throws IOException {
                writes[0]++;
                throw new IOException("Broken pipe");
            }

            @Override
            public void flush() throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void close() {
            }
        };
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(closedPipe));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute("generate", "-m", model, "-n", "40", "--backend", "cpu", "--stats", "abc");
        assertThat(exit).isZero();
        assertThat(writes[0]).as("pieces written after the reader went away").isLessThanOrEqualTo(2);
        assertThat(err.toString()).as("no stats for a run cut short").doesNotContain("prompt eval");
    }

    @Test
    void interactiveModeKeepsTheSessionsContextBetweenTurns() {
        CliRun twoTurns = CliRun.withStdin("abc\ndef\n", "generate", "-m", model, "-n", "3", "--backend", "cpu", "-i");
        assertThat(twoTurns.exit()).as(twoTurns.err()).isZero();
        String[] turns = twoTurns.out().split("\n", -1);
        assertThat(turns.length).isGreaterThanOrEqualTo(2);
        // The second turn continues "abc" + first answer + "def": not what "def" alone gives.
        CliRun first = CliRun.of("generate", "-m", model, "-n", "3", "--backend", "cpu", "abc");
        assertThat(turns[0] + "\n").isEqualTo(first.out());
        CliRun alone = CliRun.of("generate", "-m", model, "-n", "3", "--backend", "cpu", "def");
        CliRun together = CliRun.of("generate", "-m", model, "-n", "3", "--backend", "cpu",
                "abc" + turns[0] + "def");
        assertThat(turns[1] + "\n").as("turn 2 sees turn 1").isEqualTo(together.out());
        assertThat(together.out()).as("the test can tell the two apart").isNotEqualTo(alone.out());
    }

    @Test
    void tokenizeOutputPastesIntoLogitsAndCommasWorkForBoth() throws IOException {
        Path tokenizer = Path.of(model, "tokenizer.json");
        CliRun ids = CliRun.withStdin("hi there\n", "tokenize", "--tokenizer", tokenizer.toString());
        assertThat(ids.exit()).as(ids.err()).isZero();
        String spaced = ids.out().strip();
        assertThat(spaced).matches("\\d+( \\d+)+");
        Path out = tmp.resolve("l.npy");
        CliRun logits = CliRun.of("logits", "--model", model, "--tokens", spaced, "--out", out.toString(), "--backend", "cpu");
        assertThat(logits.exit()).as(logits.err()).isZero();
        CliRun decoded = CliRun.withStdin(spaced.replace(' ', ',') + "\n", "tokenize", "--tokenizer",
                tokenizer.toString(), "--decode");
        assertThat(decoded.out()).isEqualTo("hi there\n");
        assertThat(TokenList.parse("3, 17 ,5")).containsExactly(3, 17, 5);
        assertThat(TokenList.parse("  ")).isEmpty();
    }

    @Test
    void inspectExitsNonZeroWhenTheModelCannotLoad() throws IOException {
        CliRun good = CliRun.of("inspect", "--no-tensors", model);
        assertThat(good.exit()).as(good.err()).isZero();
        assertThat(good.out()).contains("Loads:      yes");
        Path broken = Files.createDirectories(tmp.resolve("broken"));
        for (String f : new String[] {"model.safetensors", "tokenizer.json"}) {
            Files.copy(Path.of(model, f), broken.resolve(f));
        }
        String config = Files.readString(Path.of(model, "config.json"));
        Files.writeString(broken.resolve("config.json"), config.replace("\"intermediate_size\": 160", "\"intermediate_size\": 164"));
        CliRun bad = CliRun.of("inspect", "--no-tensors", broken.toString());
        assertThat(bad.exit()).as(bad.out() + bad.err()).isEqualTo(1);
        assertThat(bad.out()).as(bad.err()).contains("Loads:      NO");
    }

    private static long seedOf(String stats) {
        Matcher m = Pattern.compile("seed (-?\\d+)").matcher(stats);
        assertThat(m.find()).as("a seed in: %s", stats).isTrue();
        return Long.parseLong(m.group(1));
    }
}
