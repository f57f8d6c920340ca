package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.generate.GenerationConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's embedding example, compiled and run here on the shipped demo model. The lines between the
 * markers below must appear verbatim (indentation aside) in the README's Java block; the test checks that too.
 */
class ReadmeExampleTest {

    @Test
    void theReadmeExampleRunsOnTheDemoModel() {
        PrintStream saved = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            // README-BEGIN
            try (DCFormer model = DCFormer.demo();               // or DCFormer.load(Path.of("my-model"))
                 GenerationSession session = model.newSession()) {
                GenerationConfig config = GenerationConfig.builder()
                        .maxNewTokens(12)
                        .stopStrings(List.of("\n"))
                        .build();
                String prompt = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";
                String answer = session.generate(prompt, config,
                        (piece, tokenId) -> System.out.print(piece));   // streamed as it is produced
                System.out.println();
                System.out.println("answer: " + answer.strip());
            }
            // README-END
        } finally {
            System.setOut(saved);
        }
        String printed = captured.toString(StandardCharsets.UTF_8);
        saved.print("README example printed: " + printed);
        assertThat(printed).contains("answer: ").isNotBlank();
        assertThat(printed.lines().findFirst().orElse("")).isNotBlank();
    }

    @Test
    void theReadmeShowsExactlyThisCode() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/dcformer4j/ReadmeExampleTest.java"));
        List<String> example = between(source.lines().toList(), "// README-BEGIN", "// README-END");
        String readme = Files.readString(Path.of("../README.md"));
        List<String> readmeLines = readme.lines().map(String::strip).toList();
        assertThat(example).isNotEmpty();
        int at = indexOfSublist(readmeLines, example);
        assertThat(at).as("README.md contains the example lines of ReadmeExampleTest verbatim").isNotNegative();
    }

    private static List<String> between(List<String> lines, String begin, String end) {
        int from = -1;
        int to = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).strip().equals(begin)) {
                from = i + 1;
            } else if (lines.get(i).strip().equals(end)) {
                to = i;
            }
        }
        return lines.subList(from, to).stream().map(String::strip).toList();
    }

    private static int indexOfSublist(List<String> haystack, List<String> needle) {
        return java.util.Collections.indexOfSubList(haystack, needle);
    }
}
