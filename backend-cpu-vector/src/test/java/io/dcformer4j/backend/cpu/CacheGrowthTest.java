package io.dcformer4j.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
                    same(b, mode, 0, 70);      // global: grows a page of 32 at a time, 3 pages
                    same(b, mode, 40, 40);     // local ring: grows to 2 pages, then wraps
                }
            }
        }
    }

    @Test
    void aHugeCapacityAllocatesNothingUpFront() {
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(1));
             KvCache c = b.allocateKvCache(new KvCacheSpec(Integer.MAX_VALUE / 4, 16, 64, 4, true))) {
            assertThat(c.bytes()).isZero();
            assertThat(b.liveBytes()).isZero();
            assertThat(c.bytesFor(20)).isEqualTo(4L * CpuKvCache.PAGE * (2 * 16 * 64 + 2 * 9 * 16) + 4L * Vec.L);
        }
    }

    @Test
    void pagesStayWhereTheyAreAsTheCacheGrowsAndAreFreedOnClose() {
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(1))) {
            CpuKvCache c = (CpuKvCache) b.allocateKvCache(new KvCacheSpec(10 * CpuKvCache.PAGE, 2, 8, 1, true));
            long page = KeyBlock.bytes(16, c.spec().keySidePerToken(), CpuKvCache.PAGE);
            assertThat(c.ensure(1)).isEqualTo(page);
            KeyBlock first = c.page(0);
            first.values().set(CpuTensor.F32, 0, 42f);
            assertThat(c.ensure(CpuKvCache.PAGE + 1)).as("one more page").isEqualTo(page);
            assertThat(c.ensure(CpuKvCache.PAGE + 2)).as("the page is already held").isZero();
            assertThat(c.ensure(5 * CpuKvCache.PAGE)).isEqualTo(3 * page);
            assertThat(c.page(0)).as("growth moves no page").isSameAs(first);
            assertThat(first.values().get(CpuTensor.F32, 0)).isEqualTo(42f);
            assertThat(first.values().isNative()).as("off the Java heap").isTrue();
            assertThat(b.liveBytes()).isEqualTo(5 * page);
            c.close();
            assertThat(b.liveBytes()).isZero();
            assertThatThrownBy(() -> first.values().get(CpuTensor.F32, 0)).as("freed on close")
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
