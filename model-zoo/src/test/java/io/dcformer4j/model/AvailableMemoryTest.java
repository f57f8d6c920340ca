package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The default cache budget plans with MemAvailable, not MemFree: after a large checkpoint was read the page cache
 * holds most of the machine, and MemFree alone left a 6.9B model's caches 64 MiB (a 512-token prompt refused).
 */
class AvailableMemoryTest {
    /** A 24 GiB machine right after quantizing a 13.9 GB checkpoint at load: 14 GB of it in the page cache. */
    private static final List<String> AFTER_A_BIG_CHECKPOINT = List.of(
            "MemTotal:       24600000 kB",
            "MemFree:          900000 kB",
            "MemAvailable:   21000000 kB",
            "Buffers:            2000 kB",
            "Cached:         14500000 kB");

    @Test
    void reclaimablePageCacheCountsAsAvailable() {
        assertThat(AvailableMemory.fromMeminfo(AFTER_A_BIG_CHECKPOINT, 24_600_000L * 1024))
                .hasValue(21_000_000L * 1024);
    }

    @Test
    void aContainerLimitLeavesTheJvmFigure() {
        // the JVM sees a 4 GiB limit; /proc/meminfo shows the host
        assertThat(AvailableMemory.fromMeminfo(AFTER_A_BIG_CHECKPOINT, 4L << 30)).isEmpty();
        assertThat(AvailableMemory.of(4L << 30, 123_456_789L)).isEqualTo(123_456_789L);
    }

    @Test
    void withoutMemAvailableOrMeminfoTheJvmFigureStays() {
        assertThat(AvailableMemory.fromMeminfo(List.of("MemTotal:       24600000 kB", "MemFree:  900000 kB"),
                24_600_000L * 1024)).isEmpty();
        assertThat(AvailableMemory.fromMeminfo(List.of(), 1L << 30)).isEmpty();
        assertThat(AvailableMemory.fromMeminfo(List.of("MemTotal: lots", "MemAvailable: 5 kB"), 1L << 30)).isEmpty();
    }

    @Test
    void onThisMachineTheBudgetIsAtLeastWhatMemFreeGave() {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long available = AvailableMemory.of(os.getTotalMemorySize(), os.getFreeMemorySize());
        assertThat(available).isGreaterThanOrEqualTo(os.getFreeMemorySize() / 2).isLessThanOrEqualTo(os.getTotalMemorySize());
    }
}
