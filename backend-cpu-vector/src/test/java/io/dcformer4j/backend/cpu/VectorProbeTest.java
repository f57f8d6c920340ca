package io.dcformer4j.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The vector-width property: the widths it accepts and the message for those it refuses. */
class VectorProbeTest {

    @Test
    void widthPropertySelectsTheSpeciesOrNamesTheProblem() {
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        assertThat(VectorProbe.species(null)).isEqualTo(FloatVector.SPECIES_PREFERRED);
        assertThat(VectorProbe.species(" ")).isEqualTo(FloatVector.SPECIES_PREFERRED);
        if (preferred >= 128) {
            assertThat(VectorProbe.species("128").vectorBitSize()).isEqualTo(128);
        }
        assertThatThrownBy(() -> VectorProbe.species("100")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(VectorProbe.BITS_PROPERTY).hasMessageContaining("'100'");
        assertThatThrownBy(() -> VectorProbe.species("wide")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'wide'");
        if (preferred < 512) {
            assertThatThrownBy(() -> VectorProbe.species("512")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(preferred + "-bit");
        }
    }
}
