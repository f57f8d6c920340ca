package io.dcformer4j.server;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Generated tokens per second over the last {@value #WINDOW} whole seconds, from per-second buckets (a
 * gauge that a dashboard can read without a rate() query).
 */
final class TokenRate {
    static final int WINDOW = 10;
    private static final int BUCKETS = WINDOW + 1;
    private final AtomicLongArray counts = new AtomicLongArray(BUCKETS);
    private final AtomicLongArray seconds = new AtomicLongArray(BUCKETS);

    /** Counts one token now. */
    void add(long nowMillis) {
        long second = nowMillis / 1000;
        int i = (int) (second % BUCKETS);
        long stamp = seconds.get(i);
        if (stamp != second && seconds.compareAndSet(i, stamp, second)) {
            counts.set(i, 0);
        }
        counts.incrementAndGet(i);
    }

    /** Tokens per second over the {@value #WINDOW} seconds before the current one. */
    double perSecond(long nowMillis) {
        long now = nowMillis / 1000;
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            long s = seconds.get(i);
            if (s < now && s >= now - WINDOW) {
                total += counts.get(i);
            }
        }
        return total / (double) WINDOW;
    }
}
