package io.dcformer4j.backend.cpu;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon worker threads that help callers run a range of independent chunks. The
 * calling thread always takes part and waits only for its own job, so several callers (several
 * sessions on one backend) can use the pool at the same time without sharing anything but the queue.
 */
final class WorkerPool implements AutoCloseable {
    /** The body of a parallel loop: handles indices [start, end). */
    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private static final Job POISON = new Job(null, 0, 0, 0, 0, 1, null);

    private final int threads;
    private final Thread[] workers;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private volatile boolean closed;

    WorkerPool(int threads, String name) {
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workerLoop, name + "-worker-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    int threads() {
        return threads;
    }

    /** A worker thread (to check that memory is reachable from the pool), or null with a single thread. */
    Thread anyWorker() {
        return workers.length == 0 ? null : workers[0];
    }

    /**
     * Runs {@code body} over [0, n) in at most {@code threads} contiguous chunks of at least
     * {@code grain} indices each (chunk boundaries are multiples of {@code grain}), and returns when all
     * are done. An exception in any chunk is rethrown here.
     */
    void parallelFor(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        int chunks = Math.min(threads, units);
        if (chunks <= 1 || closed) {
            body.run(0, n);
            return;
        }
        run(new Job(body, n, chunks, units / chunks, units % chunks, g, Thread.currentThread()));
    }

    /**
     * {@link #parallelFor} for work whose results do not depend on how [0, n) is cut (each index computed on its
     * own, such as a column of a matrix product): about four chunks per thread, claimed by whichever thread is
     * free, so a thread that starts late or runs slower does not leave the others waiting.
     */
    void parallelForBalanced(int n, int grain, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        if (threads <= 1 || units <= 1 || closed) {
            body.run(0, n);
            return;
        }
        int per = Math.max(1, units / (4 * threads));
        run(new Job(body, n, (units + per - 1) / per, per, 0, g, Thread.currentThread()));
    }

    private void run(Job job) {
        int chunks = job.chunks;
        for (int i = 1; i < Math.min(chunks, threads); i++) {
            queue.add(job);
        }
        job.runChunks();
        job.await();
        if (job.error != null) {
            Throwable e = job.error;
            if (e instanceof RuntimeException re) {
                throw re;
            }
            if (e instanceof Error er) {
                throw er;
            }
            throw new IllegalStateException(e);
        }
    }

    /**
     * Runs {@code body} over [0, n) on the calling thread, in the chunks {@link #parallelFor} would make with
     * {@code threads} threads, in chunk order: work whose arithmetic depends on its chunking (a split decode
     * that sums per-chunk partial results) gives the same floats as its parallel run.
     */
    static void inOrder(int n, int grain, int threads, RangeBody body) {
        if (n <= 0) {
            return;
        }
        int g = Math.max(1, grain);
        int units = (n + g - 1) / g;
        int chunks = Math.min(threads, units);
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        int perChunk = units / chunks;
        int extra = units % chunks;
        for (int c = 0; c < chunks; c++) {
            int startUnit = c * perChunk + Math.min(c, extra);
            int endUnit = startUnit + perChunk + (c < extra ? 1 : 0);
            body.run(startUnit * g, Math.min(n, endUnit * g));
        }
    }

    private void workerLoop() {
        try {
            while (true) {
                // a short spin before blocking: decode issues many small jobs back to back
                Job job = null;
                for (int spin = 0; spin < 2_000 && job == null; spin++) {
                    job = queue.poll();
                    if (job == null) {
                        Thread.onSpinWait();
                    }
                }
                if (job == null) {
                    job = queue.take();
                }
                if (job == POISON) {
                    return;
                }
                job.runChunks();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (int i = 0; i < workers.length; i++) {
            queue.add(POISON);
        }
        for (Thread t : workers) {
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One parallel loop: chunks are claimed by whichever thread (caller or worker) gets there first. */
    private static final class Job {
        final RangeBody body;
        final int n;
        final int chunks;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger remaining;
        final int unitsPerChunk;
        final int extraUnits;
        final int grain;
        volatile Throwable error;

        Job(RangeBody body, int n, int chunks, int unitsPerChunk, int extraUnits, int grain, Thread caller) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.unitsPerChunk = unitsPerChunk;
            this.extraUnits = extraUnits;
            this.grain = grain;
            this.caller = caller;
            this.remaining = new AtomicInteger(chunks);
        }

        void runChunks() {
            int c;
            while ((c = next.getAndIncrement()) < chunks) {
                int startUnit = c * unitsPerChunk + Math.min(c, extraUnits);
                int endUnit = startUnit + unitsPerChunk + (c < extraUnits ? 1 : 0);
                int start = startUnit * grain;
                int end = Math.min(n, endUnit * grain);
                try {
                    body.run(start, end);
                } catch (Throwable e) {
                    if (error == null) {
                        error = e;
                    }
                }
                if (remaining.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }

        void await() {
            int spins = 0;
            while (remaining.get() != 0) {
                if (spins < 20_000) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, 50_000);
                }
            }
        }
    }
}
