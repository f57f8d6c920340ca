package io.dcformer4j.conformance.naive;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's "Certifying a backend" snippet is the compiled {@link NaiveBackendConformanceTest}, verbatim. */
class ReadmeExampleTest {
    @Test
    void readmeShowsTheCompiledExampleVerbatim() throws IOException {
        Path readme = Path.of("..", "README.md");
        Path example = Path.of("src/test/java/io/dcformer4j/conformance/naive/NaiveBackendConformanceTest.java");
        assertThat(readme).as("README.md beside the conformance-tests module").exists();
        String section = Files.readString(readme);
        assertThat(section).contains("## Certifying a backend");
        assertThat(section.substring(section.indexOf("## Certifying a backend")))
                .as("README section 'Certifying a backend' must contain " + example + " verbatim")
                .contains("```java\n" + Files.readString(example) + "```");
    }
}
