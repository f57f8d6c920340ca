package io.dcformer4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.BackendSelection;
import io.dcformer4j.api.BackendSelector;
import io.dcformer4j.api.BackendUnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DCFormer#load(Path)} on a machine whose best provider reports itself available and then cannot open
 * (here {@link FailingToOpenProvider}, the NoClassDefFoundError of a missing JCuda jar): the model loads on the
 * next provider, standard error gets exactly one warning line, and the model tells what happened.
 */
class AutomaticBackendFallbackTest {
    @TempDir
    Path tmp;

    @Test
    void loadFallsBackToTheNextProviderWithOneWarningLine() throws Exception {
        Path dir = TinyModelDir.create(tmp);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        BackendSelection[] selection = new BackendSelection[1];
        String backendName;
        try {
            FailingToOpenProvider.switchedOn(() -> {
                try (DCFormer model = DCFormer.load(dir)) {
                    selection[0] = model.backendSelection().orElseThrow();
                }
            });
        } finally {
            System.setErr(saved);
        }
        backendName = selection[0].backend().name();
        String expected = FailingToOpenProvider.NAME + ": java.lang.NoClassDefFoundError: " + FailingToOpenProvider.MISSING_CLASS
                + "; using " + backendName;
        assertThat(backendName).isEqualTo("cpu");
        assertThat(captured.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(expected);
        assertThat(selection[0].fellBack()).isTrue();
        assertThat(selection[0].warnings()).containsExactly(expected);
    }

    @Test
    void aNamedBackendThatCannotOpenIsAnErrorNotAFallBack() throws Exception {
        Path dir = TinyModelDir.create(tmp);
        FailingToOpenProvider.switchedOn(() -> {
            System.setProperty(BackendSelector.PROPERTY, FailingToOpenProvider.NAME);
            try {
                assertThatThrownBy(() -> DCFormer.load(dir)).isInstanceOf(BackendUnavailableException.class)
                        .hasMessageContaining("backend 'failing-gpu' (system property dcformer4j.backend) failed to open: "
                                + "java.lang.NoClassDefFoundError: " + FailingToOpenProvider.MISSING_CLASS);
            } finally {
                System.clearProperty(BackendSelector.PROPERTY);
            }
        });
    }

    @Test
    void aModelOnTheCallersBackendHasNoSelection() throws Exception {
        Path dir = TinyModelDir.create(tmp);
        try (var backend = io.dcformer4j.api.Backends.open("cpu"); DCFormer model = DCFormer.load(dir, backend)) {
            assertThat(model.backendSelection()).isEmpty();
        }
    }
}
