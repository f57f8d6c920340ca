package io.dcformer4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Memory bandwidth as a decode step sees it: a read-only stream over an off-heap buffer much larger than
 * the last-level cache, split into one contiguous slice per worker thread (the way a GEMV splits weight
 * rows). Like STREAM's {@code read} kernel it counts the bytes read once, with no write traffic.
 */
public final class BandwidthProbe {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final VectorSpecies<Long> LONGS = LongVector.SPECIES_PREFERRED;

    private BandwidthProbe() {
    }

    /**
     * Measures the read bandwidth.
     *
     * @param bytes   buffer size (rounded down to a multiple of 64 bytes per thread)
     * @param threads worker threads
     * @param reps    timed passes after one warm-up pass; the median is returned
     * @return bytes read per second, in GB/s (1e9 bytes)
     */
    public static double readGbPerS(long bytes, int threads, int reps) {
        if (bytes < 64L * threads || threads <= 0 || reps <= 0) {
            throw new IllegalArgumentException("bandwidth probe: bytes " + bytes + ", threads " + threads + ", reps " + reps);
        }
        long slice = (bytes / threads) & ~63L;
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-bandwidth");
            t.setDaemon(true);
            return t;
        });
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(slice * threads, 64); // [bytes]
            // First touch from the reading threads, so pages are resident (and local) before timing.
            run(pool, threads, i -> buf.asSlice(i * slice, slice).fill((byte) (i + 1)));
            // Compile the kernel before timing: vector code that is not yet compiled runs far below speed.
            MemorySegment warm = buf.asSlice(0, Math.min(slice, 256L << 10));
            long sink = 0;
            for (int i = 0; i < 2000; i++) {
                sink += sum(warm);
            }
            double[] gbs = new double[reps];
            for (int r = -1; r < reps; r++) {
                long[] sums = new long[threads];
                long t0 = System.nanoTime();
                run(pool, threads, i -> sums[i] = sum(buf.asSlice(i * slice, slice)));
                long dt = System.nanoTime() - t0;
                for (long s : sums) {
                    sink += s;
                }
                if (r >= 0) {
                    gbs[r] = (double) slice * threads / dt;
                }
            }
            if (sink == 42) {
                // Keeps the sums observable so the reads cannot be removed.
                System.err.print("");
            }
            return Stats.median(gbs);
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * Sum of the 64-bit words of a segment whose size is a multiple of 64 bytes. Vector loads (as in a GEMV
     * kernel) are needed to reach the memory's bandwidth: scalar loads stop at about half of it.
     */
    static long sum(MemorySegment s) {
        int step = LONGS.vectorByteSize();
        LongVector a0 = LongVector.zero(LONGS);
        LongVector a1 = a0;
        LongVector a2 = a0;
        LongVector a3 = a0;
        long n = s.byteSize();
        long off = 0;
        // Independent accumulators keep several cache-line loads in flight.
        for (; off + 4L * step <= n; off += 4L * step) {
            a0 = a0.add(LongVector.fromMemorySegment(LONGS, s, off, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(LONGS, s, off + step, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(LONGS, s, off + 2L * step, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(LONGS, s, off + 3L * step, ByteOrder.LITTLE_ENDIAN));
        }
        long tail = 0;
        for (; off < n; off += 8) {
            tail += s.get(LONG, off);
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD) + tail;
    }

    private interface Task {
        void run(int index);
    }

    private static void run(ExecutorService pool, int threads, Task task) {
        List<Future<?>> fs = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            int index = i;
            fs.add(pool.submit(() -> task.run(index)));
        }
        try {
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bandwidth probe interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("bandwidth probe failed: " + e.getCause(), e.getCause());
        }
    }
}
