package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.TinyModelDir;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Non-finite weights stop generation with an error naming the first layer whose output is not finite. */
class NonFiniteOutputTest {

    @TempDir
    static Path tmp;
    static Backend backend;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu", BackendOptions.withThreads(1));
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    @Test
    void aNanInLayerTwoIsTracedToLayerTwo() throws Exception {
        Path dir = TinyModelDir.poisoned(tmp, "nan-layer2", "layers.2.feed_forward.w2.weight", Float.NaN);
        try (DCFormerModel m = DCFormerModel.load(dir, backend); Session s = m.newSession()) {
            List<Integer> seen = new ArrayList<>();
            LayerObserver mine = (layer, pos, x) -> seen.add(layer);
            s.setLayerObserver(mine);
            assertThatThrownBy(() -> s.prefillLast(new int[] {5, 6, 7}))
                    .isInstanceOfSatisfying(NonFiniteOutputException.class, e -> {
                        assertThat(e.layer()).isEqualTo(2);
                        assertThat(e.position()).isEqualTo(2);
                    })
                    .hasMessageContaining("position 2").hasMessageContaining("layer 2 (of 4)")
                    .hasMessageContaining("inspect --check");
            assertThat(seen).as("the caller's observer saw the call, not the replay").containsExactly(0, 1, 2, 3);
            assertThatThrownBy(() -> s.decode(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("reset()");
            s.reset();
            assertThatThrownBy(() -> s.decode(1)).isInstanceOf(NonFiniteOutputException.class)
                    .hasMessageContaining("position 0");
        }
    }

    @Test
    void anInfinityInTheHeadIsNotBlamedOnALayer() throws Exception {
        Path dir = TinyModelDir.poisoned(tmp, "inf-head", "output.weight", Float.POSITIVE_INFINITY);
        try (DCFormerModel m = DCFormerModel.load(dir, backend); Session s = m.newSession()) {
            assertThatThrownBy(() -> s.prefill(new int[] {5, 6, 7}))
                    .isInstanceOfSatisfying(NonFiniteOutputException.class, e -> assertThat(e.layer()).isEqualTo(-1))
                    .hasMessageContaining("position 0").hasMessageContaining("every layer's output is finite");
        }
    }

    @Test
    void generationStopsWithTheErrorAndTheSessionRecovers() throws Exception {
        Path dir = TinyModelDir.poisoned(tmp, "nan-gen", "layers.1.attention.wo.weight", Float.NaN);
        try (DCFormer m = DCFormer.load(dir, backend); GenerationSession s = m.newSession()) {
            assertThatThrownBy(() -> s.generate("Mary has", GenerationConfig.greedy(4)))
                    .isInstanceOf(NonFiniteOutputException.class).hasMessageContaining("layer 1 (of 4)");
            assertThat(s.position()).isZero();
        }
    }

    @Test
    void finiteModelsAreUntouched() throws Exception {
        Path dir = TinyModelDir.create(tmp.resolve("clean"));
        try (DCFormer m = DCFormer.load(dir, backend); GenerationSession s = m.newSession()) {
            assertThat(s.generate("Mary has", GenerationConfig.greedy(4))).isNotNull();
        }
    }
}
