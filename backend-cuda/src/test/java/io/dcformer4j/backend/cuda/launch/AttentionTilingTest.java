package io.dcformer4j.backend.cuda.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AttentionTilingTest {

    @ParameterizedTest
    @CsvSource({"1,4", "40,4", "2048,32", "17,32", "3,64", "100,128", "5,256", "9,1"})
    void prefillTilesFitTheBudgetAndCoverEveryQuery(int t, int n) {
        for (boolean staticWeights : new boolean[] {false, true}) {
            AttentionTiling.Prefill p = AttentionTiling.prefill(t, n, staticWeights, AttentionTiling.DEFAULT_SHARED_BUDGET);
            assertThat(p.sharedBytes()).isLessThanOrEqualTo(AttentionTiling.DEFAULT_SHARED_BUDGET);
            assertThat(p.sharedBytes()).isEqualTo(AttentionTiling.prefillSharedBytes(n, p.queryTile(), p.keyTile(),
                    staticWeights));
            assertThat((long) p.blocks() * p.queryTile()).isGreaterThanOrEqualTo(t).isLessThan(t + p.queryTile());
            assertThat(p.queryTile()).isBetween(1, AttentionTiling.PREFILL_MAX_QUERY_TILE);
            assertThat(p.keyTile()).isBetween(1, AttentionTiling.PREFILL_KEY_TILE);
        }
    }

    @Test
    void prefillPrefersTheLargestQueryTileThatFits() {
        // N = 32: 8 x 32 scores per head = 32 KiB + statistics, 16 rows would need 64 KiB.
        AttentionTiling.Prefill p = AttentionTiling.prefill(2048, 32, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        assertThat(p.queryTile()).isEqualTo(8);
        assertThat(p.keyTile()).isEqualTo(32);
        assertThat(p.sharedBytes()).isEqualTo(4 * (32 * 8 * 32 + 2 * 8 * 32));
        assertThat(AttentionTiling.prefill(40, 4, false, AttentionTiling.DEFAULT_SHARED_BUDGET).queryTile()).isEqualTo(16);
        assertThat(AttentionTiling.prefill(40, 32, true, AttentionTiling.DEFAULT_SHARED_BUDGET).queryTile()).isEqualTo(4);
    }

    @Test
    void prefillRejectsHeadCountsThatCannotFit() {
        assertThatThrownBy(() -> AttentionTiling.prefill(4, 20000, false, AttentionTiling.DEFAULT_SHARED_BUDGET))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("20000 heads");
        assertThatThrownBy(() -> AttentionTiling.prefill(0, 4, false, 1 << 16)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @CsvSource({"1,4", "2,4", "255,32", "256,32", "257,32", "2048,32", "4096,32", "16384,32", "30000,128", "9,1000"})
    void decodeSplitsCoverEveryKeyWithNoEmptySplit(int keys, int n) {
        for (boolean staticWeights : new boolean[] {false, true}) {
            AttentionTiling.Decode d = AttentionTiling.decode(keys, n, staticWeights, AttentionTiling.DEFAULT_SHARED_BUDGET);
            assertThat((long) d.splits() * d.chunk()).isGreaterThanOrEqualTo(keys);
            assertThat((long) (d.splits() - 1) * d.chunk()).isLessThan(keys);
            assertThat(d.sharedBytes()).isLessThanOrEqualTo(AttentionTiling.DEFAULT_SHARED_BUDGET)
                    .isEqualTo(d.chunk() * n * 4 * (staticWeights ? 2 : 1));
            assertThat(d.logitFloats(n)).isEqualTo((long) n * keys);
            assertThat(d.partialFloats(n)).isEqualTo(2L * d.splits() * n);
        }
    }

    @Test
    void decodeAimsForManySplitsOnLongContexts() {
        assertThat(AttentionTiling.decode(256, 32, false, AttentionTiling.DEFAULT_SHARED_BUDGET).chunk()).isEqualTo(16);
        AttentionTiling.Decode d = AttentionTiling.decode(2048, 32, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        assertThat(d.chunk()).isEqualTo(16);
        assertThat(d.splits()).isEqualTo(128);
        assertThat(AttentionTiling.decode(100_000, 32, false, AttentionTiling.DEFAULT_SHARED_BUDGET).chunk())
                .isEqualTo(AttentionTiling.DECODE_MAX_CHUNK);
    }
}
