package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The JVM options the open-failure text gives are the ones the README and the launcher use. */
class JCudaSetupTest {
    @Test
    void theHintNamesTheArtifactsAndBothSetsOfOptions() {
        assertThat(JCudaSetup.HINT).contains("org.jcuda:jcuda ", "org.jcuda:jcuda-natives", "linux-x86_64",
                JCudaSetup.CLASS_PATH_OPTIONS, JCudaSetup.MODULE_PATH_OPTIONS);
    }

    @Test
    void theReadmeAndTheLauncherGiveTheSameOptions() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        assertThat(readme).contains(JCudaSetup.CLASS_PATH_OPTIONS, JCudaSetup.MODULE_PATH_OPTIONS);
        assertThat(Files.readString(Path.of("../dcformer4j"))).contains(JCudaSetup.CLASS_PATH_OPTIONS);
    }
}
