package io.dcformer4j.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's single-precision FMA peak as Java can reach it: every worker thread runs fused multiply-adds on
 * the widest float vectors, with enough independent accumulators to cover the FMA latency on every port, and no
 * memory traffic. This is the compute limit of a prefill when OpenBLAS is not there to give a practical one.
 */
public final class FmaPeakProbe {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    /** FMAs per accumulator per loop trip. */
    private static final int ACCUMULATORS = 12;

    private FmaPeakProbe() {
    }

    /**
     * Measures the peak.
     *
     * @param threads worker threads
     * @param seconds minimum duration of one timed pass
     * @param reps    timed passes; the median is returned
     * @return GFLOP/s (an FMA counts as 2 FLOPs per lane)
     */
    public static double gflops(int threads, double seconds, int reps) {
        if (threads <= 0 || reps <= 0 || !(seconds > 0)) {
            throw new IllegalArgumentException("FMA probe: threads " + threads + ", seconds " + seconds + ", reps " + reps);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "bench-fma");
            t.setDaemon(true);
            return t;
        });
        try {
            long trips = 1 << 16;
            float sink = 0;
            for (int i = 0; i < 200; i++) { // compile the loop before timing
                sink += fma(1 << 10, 1f + i);
            }
            // Grow the trip count until one pass lasts long enough to time.
            while (true) {
                long t0 = System.nanoTime();
                sink += runAll(pool, threads, trips);
                if ((System.nanoTime() - t0) * 1e-9 >= seconds || trips > (1L << 40)) {
                    break;
                }
                trips *= 2;
            }
            double[] rates = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                sink += runAll(pool, threads, trips);
                long dt = System.nanoTime() - t0;
                rates[r] = 2.0 * FLOATS.length() * ACCUMULATORS * trips * threads / dt;
            }
            if (sink == 42) {
                System.err.print(""); // keeps the results observable so the work cannot be removed
            }
            return Stats.median(rates);
        } finally {
            pool.shutdownNow();
        }
    }

    private static float runAll(ExecutorService pool, int threads, long trips) {
        List<Future<Float>> fs = new ArrayList<>(threads);
        for (int i = 0; i < threads; i++) {
            float seed = 1f + i;
            fs.add(pool.submit(() -> fma(trips, seed)));
        }
        float s = 0;
        try {
            for (Future<Float> f : fs) {
                s += f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("FMA probe interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("FMA probe failed: " + e.getCause(), e.getCause());
        }
        return s;
    }

    /** {@code trips} × {@link #ACCUMULATORS} vector FMAs; values stay bounded (a·x + b with |a| < 1). */
    static float fma(long trips, float seed) {
        FloatVector a = FloatVector.broadcast(FLOATS, 0.999f);
        FloatVector b = FloatVector.broadcast(FLOATS, 1e-3f);
        FloatVector c0 = FloatVector.broadcast(FLOATS, seed);
        FloatVector c1 = c0.add(1f);
        FloatVector c2 = c0.add(2f);
        FloatVector c3 = c0.add(3f);
        FloatVector c4 = c0.add(4f);
        FloatVector c5 = c0.add(5f);
        FloatVector c6 = c0.add(6f);
        FloatVector c7 = c0.add(7f);
        FloatVector c8 = c0.add(8f);
        FloatVector c9 = c0.add(9f);
        FloatVector c10 = c0.add(10f);
        FloatVector c11 = c0.add(11f);
        for (long i = 0; i < trips; i++) {
            c0 = c0.fma(a, b);
            c1 = c1.fma(a, b);
            c2 = c2.fma(a, b);
            c3 = c3.fma(a, b);
            c4 = c4.fma(a, b);
            c5 = c5.fma(a, b);
            c6 = c6.fma(a, b);
            c7 = c7.fma(a, b);
            c8 = c8.fma(a, b);
            c9 = c9.fma(a, b);
            c10 = c10.fma(a, b);
            c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
