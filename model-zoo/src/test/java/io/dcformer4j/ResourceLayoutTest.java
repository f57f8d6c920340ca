package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every file of this module's jar sits under the module's own package path. Under JPMS each resource folder
 * is a package of the module, so a top-level {@code demo/} folder would make {@code demo} a package of
 * {@code io.dcformer4j.model} and stop any application module that has a {@code demo} package from starting.
 */
class ResourceLayoutTest {
    @Test
    void everyResourceOfTheLibraryLivesUnderItsOwnNamespace() throws IOException {
        // The sources, not target/classes: a build tree made before the move may still hold a stale demo/.
        Path resources = Path.of("src/main/resources");
        assertThat(resources).as("model-zoo's resources (tests run in the module directory)").isDirectory();
        try (Stream<Path> files = Files.walk(resources)) {
            List<String> outside = files.filter(Files::isRegularFile)
                    .map(f -> resources.relativize(f).toString().replace('\\', '/'))
                    .filter(name -> !name.startsWith("io/dcformer4j/") && !name.startsWith("META-INF/"))
                    .toList();
            assertThat(outside).as("resources outside io/dcformer4j/ and META-INF/").isEmpty();
        }
    }

    @Test
    void theDemoModelsAreFoundUnderTheModulePath() {
        for (String variant : List.of("dcformer", "mha")) {
            Path dir = DemoModels.directory(variant);
            assertThat(dir.toString().replace('\\', '/')).endsWith("io/dcformer4j/demo/" + variant);
            assertThat(dir.resolve("config.json")).isRegularFile();
        }
    }
}
