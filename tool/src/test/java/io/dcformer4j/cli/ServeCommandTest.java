package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code dcformer4j serve} is the server module's command mounted in the tool (the server's own tests cover serving). */
class ServeCommandTest {

    @Test
    void helpListsTheServerOptions() {
        CliRun r = CliRun.of("serve", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("--model", "--host", "--port", "--backend", "--max-batch", "--ctx-size", "--api-key");
    }

    @Test
    void aNonLoopbackBindWithoutAKeyIsRefused() {
        CliRun r = CliRun.of("serve", "--host", "0.0.0.0", "--port", "0");
        assertThat(r.exit()).isEqualTo(Main.EXIT_FAILURE);
        assertThat(r.err()).contains("API key");
    }
}
