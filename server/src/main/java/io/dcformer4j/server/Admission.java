package io.dcformer4j.server;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounded admission: at most {@code maxBatch} generations run at once (each holds one session, so the cache
 * memory in use is bounded by {@code maxBatch} sessions), at most {@code queueLimit} requests wait for a
 * slot in arrival order, and any request beyond that is refused at once with 429.
 */
final class Admission {
    private final Semaphore slots;
    private final int maxBatch;
    private final int queueLimit;
    private final AtomicInteger waiting = new AtomicInteger();

    Admission(int maxBatch, int queueLimit) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max-batch must be at least 1, got " + maxBatch);
        }
        if (queueLimit < 0) {
            throw new IllegalArgumentException("the queue limit must be 0 or more, got " + queueLimit);
        }
        this.maxBatch = maxBatch;
        this.queueLimit = queueLimit;
        this.slots = new Semaphore(maxBatch, true);
    }

    /**
     * Takes a generation slot, waiting in the queue when all are taken.
     *
     * @throws ApiException 429 when the queue is full
     */
    void acquire() {
        try {
            // tryAcquire with a timeout honours fairness: a request never overtakes the queue.
            if (slots.tryAcquire(0, TimeUnit.NANOSECONDS)) {
                return;
            }
            if (waiting.incrementAndGet() > queueLimit) {
                waiting.decrementAndGet();
                throw ApiException.queueFull(1);
            }
            try {
                slots.acquire();
            } finally {
                waiting.decrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiException.unavailable("The request was interrupted while waiting for a generation slot", 1);
        }
    }

    /** Returns a slot taken by {@link #acquire()}. */
    void release() {
        slots.release();
    }

    /** Requests waiting for a slot. */
    int queueLength() {
        return waiting.get();
    }

    /** Generations running now. */
    int running() {
        return maxBatch - slots.availablePermits();
    }

    int maxBatch() {
        return maxBatch;
    }
}
