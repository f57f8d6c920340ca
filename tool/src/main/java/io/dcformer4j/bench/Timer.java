package io.dcformer4j.bench;

/** Times a repeated action: median over repetitions of the mean time per call. */
final class Timer {
    private Timer() {
    }

    /**
     * Runs {@code action} once to warm up, then {@code reps} times a batch of calls lasting at least
     * {@code minSeconds}, and returns the median seconds per call.
     */
    static double medianSecondsPerCall(Runnable action, int reps, double minSeconds) {
        action.run();
        double[] perCall = new double[reps];
        for (int r = 0; r < reps; r++) {
            long calls = 0;
            long t0 = System.nanoTime();
            long t1;
            do {
                action.run();
                calls++;
                t1 = System.nanoTime();
            } while ((t1 - t0) * 1e-9 < minSeconds);
            perCall[r] = (t1 - t0) * 1e-9 / calls;
        }
        return Stats.median(perCall);
    }
}
