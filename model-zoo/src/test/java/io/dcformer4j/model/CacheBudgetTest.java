package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Caches are sized by use and bounded by the model's cache budget: 1,000 open sessions holding a 20-token
 * prompt take a small share of 1,000 whole caches, a huge block_size allocates nothing up front, and a step
 * that does not fit the budget is refused with the sizes in the message (the session stays usable).
 */
class CacheBudgetTest {
    private static String config(int blockSize) {
        return "{\"model_type\": \"dcformer\", \"vocab_size\": 61, \"dim\": 32, \"n_head\": 4, \"n_layer\": 2, "
                + "\"block_size\": " + blockSize + ", \"window_size\": 8, \"window_type\": \"LG\", "
                + "\"norm_eps\": 1e-6, \"rope_base\": 10000}";
    }

    @Test
    void thousandShortSessionsTakeUnderATenthOfWholeCaches() {
        ModelConfig c = ModelConfig.parse(config(2048));
        try (Backend backend = Backends.open("cpu", BackendOptions.withThreads(1));
             MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 3);
             DCFormerModel m = DCFormerModel.create(c, w, backend)) {
            long before = backend.liveBytes();
            List<Session> open = new ArrayList<>();
            SplittableRandom rnd = new SplittableRandom(1);
            long whole = 0;
            try {
                for (int i = 0; i < 1000; i++) {
                    Session s = m.newSession();
                    s.prefillLast(rnd.ints(20, 0, 61).toArray());
                    open.add(s);
                }
                for (int l = 0; l < c.numLayers(); l++) {
                    whole += open.get(0).cache(l).spec().fullBytes();
                }
                long used = backend.liveBytes() - before;
                // the sessions' decode scratch and logits are counted too
                assertThat(used).as("bytes of 1,000 sessions at 20 positions vs 1,000 whole caches of %d", whole)
                        .isLessThan(1000 * whole / 10);
                assertThat(m.cacheBudget().inUse()).isLessThan(1000 * whole / 10).isPositive();
            } finally {
                open.forEach(Session::close);
            }
            assertThat(m.cacheBudget().inUse()).isZero();
        }
    }

    @Test
    void aHugeBlockSizeAllocatesNothingUpFront() {
        ModelConfig c = ModelConfig.parse(config(1 << 30));
        try (Backend backend = Backends.open("cpu", BackendOptions.withThreads(1));
             MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 3);
             DCFormerModel m = DCFormerModel.create(c, w, backend)) {
            long before = backend.liveBytes();
            try (Session s = m.newSession()) {
                assertThat(s.maxContext()).isEqualTo(1 << 30);
                assertThat(backend.liveBytes() - before).isLessThan(1 << 20);
                s.prefillLast(new int[] {1, 2, 3});
                s.decode(4);
                assertThat(backend.liveBytes() - before).isLessThan(1 << 20);
            }
        }
    }

    @Test
    void aStepOverTheBudgetIsRefusedWithTheSizes() {
        ModelConfig c = ModelConfig.parse(config(2048));
        try (Backend backend = Backends.open("cpu", BackendOptions.withThreads(1));
             MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 3);
             DCFormerModel m = DCFormerModel.create(c, w, backend);
             Session s = m.newSession()) {
            s.prefillLast(new int[] {1, 2, 3});
            long held = m.cacheBudget().inUse();
            m.cacheBudget().setLimit(held + 1);
            assertThatThrownBy(() -> s.prefillLast(new int[40]))
                    .isInstanceOf(CacheBudgetExceededException.class)
                    .hasMessageContaining("cache budget of " + (held + 1) + " bytes")
                    .hasMessageContaining(held + " of the cache budget")
                    .hasMessageContaining("more bytes")
                    .hasMessageContaining("-D" + CacheBudget.PROPERTY);
            assertThat(s.position()).isEqualTo(3);
            assertThat(m.cacheBudget().inUse()).isEqualTo(held);
            m.cacheBudget().setLimit(1L << 30);
            s.decode(5);
            assertThat(s.position()).isEqualTo(4);
        }
    }

    @Test
    void theDefaultBudgetComesFromFreePhysicalMemory() {
        long limit = CacheBudget.defaultLimit();
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        assertThat(limit).as("at least the floor of 64 MiB").isGreaterThanOrEqualTo(64L << 20);
        assertThat(limit).as("at most the physical memory").isLessThanOrEqualTo(Math.max(64L << 20, os.getTotalMemorySize()));
    }

    @Test
    void anAdmissionThatCanNeverFitIsRefusedAndOneThatFitsIsNot() {
        CacheBudget b = new CacheBudget(1000);
        assertThatThrownBy(() -> b.awaitReserve(1001, java.time.Duration.ofSeconds(5), () -> false, "test"))
                .isInstanceOf(CacheBudgetExceededException.class)
                .hasMessageContaining("needs 1001 bytes").hasMessageContaining("whole cache budget of 1000 bytes");
        assertThat(b.awaitReserve(600, java.time.Duration.ofSeconds(5), () -> false, "test")).isTrue();
        assertThat(b.inUse()).isEqualTo(600);
        // does not fit now: a cancelled wait reserves nothing
        assertThat(b.awaitReserve(600, java.time.Duration.ofSeconds(5), () -> true, "test")).isFalse();
        assertThat(b.inUse()).isEqualTo(600);
        assertThat(b.waiting()).isZero();
        b.release(600);
        assertThat(b.awaitReserve(1000, java.time.Duration.ofSeconds(5), () -> false, "test")).isTrue();
    }

    @Test
    void budgetTextsParse() {
        assertThat(CacheBudget.parse("512m")).isEqualTo(512L << 20);
        assertThat(CacheBudget.parse("2G")).isEqualTo(2L << 30);
        assertThat(CacheBudget.parse("1000")).isEqualTo(1000);
        assertThatThrownBy(() -> CacheBudget.parse("lots")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(CacheBudget.PROPERTY);
    }
}
