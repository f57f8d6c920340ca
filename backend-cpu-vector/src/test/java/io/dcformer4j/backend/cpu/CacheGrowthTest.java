package io.dcformer4j.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import org.junit.jupiter.api.Test;

/**
 * Caches that grow with the sequence give bit for bit the attention of a cache held whole from the start:
 * prefill, chunked prefill and decode across the growth steps, on global layers and on local rings that
 * grow and then wrap, for every attention mode; and a cache holds nothing until a position is stored.
 */
class CacheGrowthTest {
    private static final int[][] CHUNKS = {{70}, {5, 11, 3, 17}, {1}, {12, 1, 1, 30, 2}};

    private static void same(Backend b, AttentionMode mode, int window, int capacity) {
        for (int[] chunks : CHUNKS) {
            AttentionRunner grown = new AttentionRunner(9, 3, 8, 2, 70).withStatic(4);
            AttentionRunner whole = new AttentionRunner(9, 3, 8, 2, 70).withStatic(4);
            whole.fullCacheUpFront = true;
            float[] a = grown.run(b, mode, window, false, capacity, chunks);
            float[] c = whole.run(b, mode, window, false, capacity, chunks);
            assertThat(a).as("%s window %d capacity %d chunks %s", mode, window, capacity, java.util.Arrays.toString(chunks))
                    .isEqualTo(c);
        }
    }

    @Test
    void growingCachesMatchAWholeCache() {
        for (int threads : new int[] {1, 2}) {
            try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(threads))) {
                for (AttentionMode mode : AttentionMode.values()) {
                    same(b, mode, 0, 70);      // global: grows 16 → 32 → 64 → 70
                    same(b, mode, 40, 40);     // local ring: grows 16 → 32 → 40, then wraps
                }
            }
        }
    }

    @Test
    void aHugeCapacityAllocatesNothingUpFront() {
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(1));
             KvCache c = b.allocateKvCache(new KvCacheSpec(Integer.MAX_VALUE / 4, 16, 64, 4, true))) {
            assertThat(c.bytes()).isEqualTo(4L * Vec.L);
            assertThat(b.liveBytes()).isEqualTo(4L * Vec.L);
            assertThat(c.bytesFor(20)).isEqualTo(4L * 20 * (2 * 16 * 64 + 2 * 9 * 16) + 4L * Vec.L);
        }
    }
}
