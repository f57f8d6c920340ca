package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.TinyModelDir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Errors in the project's words: the file and where in it, no parser internals, sizes with their values. */
class MessagesTest {
    @Test
    void aBrokenConfigNamesTheFileAndTheLineWithoutParserInternals(@TempDir Path tmp) throws IOException {
        Path model = TinyModelDir.create(tmp);
        String config = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), config.replace("\"block_size\": 64", "\"block_size\": NaN"));
        CliRun r = CliRun.of("inspect", model.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains(model.resolve("config.json").toString(), "line ", "column ", "NaN")
                .doesNotContain("JsonReadFeature", "StreamReadFeature", "StreamReadConstraints", "`", "\tat ");
        assertThat(r.err().strip()).doesNotContain("\n");
    }

    @Test
    void aBrokenTokenizerNamesTheFileAndTheLine(@TempDir Path tmp) throws IOException {
        Path model = TinyModelDir.create(tmp);
        Files.writeString(model.resolve("tokenizer.json"), "{\n  \"model\": {\n    \"vocab\": [1, 2,,]\n}");
        CliRun r = CliRun.withStdin("abc\n", "tokenize", "--tokenizer", model.resolve("tokenizer.json").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("tokenizer.json", "line 3, column");
    }

    @Test
    void outOfMemoryIsOneLineWithTheSizes() {
        String line = OutOfMemory.describe(new OutOfMemoryError("Java heap space"), 4L << 30, 3L << 30);
        assertThat(line).isEqualTo("dcformer4j: out of memory (Java heap space): Java heap limit 4.00 GiB, 3.00 GiB in use;"
                + " raise the limit with JAVA_OPTS=-Xmx<size> (for example -Xmx8g), or use a smaller -c/--ctx-size or model");
    }
}
