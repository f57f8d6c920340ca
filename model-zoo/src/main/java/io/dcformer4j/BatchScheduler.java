package io.dcformer4j;

import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.DecodeBatch;
import io.dcformer4j.model.Session;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Continuous batching for one model: the forward passes of every generating session run on one scheduler
 * thread, and the decode steps of all sequences that are ready run as one {@link DecodeBatch} step.
 *
 * <p>A generation {@link #join joins} before its prompt and {@link #leave leaves} when it ends, so sequences
 * enter and leave between steps. Its caller thread submits a prefill or a decode and waits for the logits;
 * sampling, stop rules, streaming and cancellation stay on that thread, so a slow or failing listener, a
 * cancelled or a finished sequence touches nobody else. A decode step runs when every member that is not
 * being prefilled has submitted its token, or when the oldest waiting token has waited half a step (at least
 * 0.2 ms, at most 50 ms): a member that is late (a slow listener) joins the next step instead of holding the
 * others up.
 *
 * <p><b>Prefill runs beside the decode steps, not between them</b>: the generation's own thread runs its
 * prompt through {@link Session#prefillLast} (so the caches are exactly those of an unbatched run), one prompt
 * at a time, while the scheduler thread goes on stepping the sequences that are decoding. Decode rows are not
 * mixed into a prompt's rows because a mixed step would send the decode rows through the many-row GEMM path,
 * whose floats differ from the one-row path, and a sequence's output would then depend on who else is
 * running; a prompt already reads the weights once for all its rows, so fusing would save little. Running
 * prompts on another thread rather than as pieces between steps lets a machine's other cores work on them:
 * on the demo model, prefill took 40 % of the single scheduler thread's time under eight clients, while the
 * second core waited. A member that is prefilling is not waited for by the decode steps.
 */
final class BatchScheduler implements AutoCloseable {
    private static final long MIN_WAIT_NANOS = 200_000;
    private static final long MAX_WAIT_NANOS = 50_000_000;

    private final DCFormerModel model;
    private final int maxBatch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Decode> decodes = new ArrayDeque<>();
    /** One prompt at a time runs beside the decode steps: more would only share the same cores. */
    private final Semaphore prefillTurn = new Semaphore(1, true);
    private int members;
    private int prefilling;
    private long lastStepNanos;
    private Thread thread;
    private boolean closed;
    // scheduler thread only
    private DecodeBatch batch;
    private long steps;
    private long rowsStepped;

    BatchScheduler(DCFormerModel model, int maxBatch) {
        this.model = model;
        this.maxBatch = maxBatch;
    }

    private record Decode(Session session, int token, long submitted, CompletableFuture<float[]> result) {
    }

    /** A generation starts: the scheduler will expect its decode steps. */
    void join() {
        lock.lock();
        try {
            checkOpen();
            members++;
            if (thread == null) {
                thread = new Thread(this::loop, "dcformer4j-batch-scheduler");
                thread.setDaemon(true);
                thread.start();
            }
        } finally {
            lock.unlock();
        }
    }

    /** A generation ended (normally, cancelled or failed): the others no longer wait for it. */
    void leave() {
        lock.lock();
        try {
            members--;
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs the prompt through {@code session} on the calling thread, one prompt at a time, while the decode
     * steps of the other members go on; the last position's logits.
     */
    float[] prefill(Session session, int[] tokens) {
        lock.lock();
        try {
            checkOpen();
            prefilling++;
        } finally {
            lock.unlock();
        }
        try {
            prefillTurn.acquireUninterruptibly();
            try {
                lock.lock();
                try {
                    checkOpen();
                } finally {
                    lock.unlock();
                }
                return session.prefillLast(tokens);
            } finally {
                prefillTurn.release();
            }
        } finally {
            lock.lock();
            try {
                prefilling--;
                work.signalAll(); // the decode steps may have been waiting for this member
            } finally {
                lock.unlock();
            }
        }
    }

    /** Feeds one token to {@code session} in the next decode step; its logits. Check the token first. */
    float[] decode(Session session, int token) {
        Decode d = new Decode(session, token, System.nanoTime(), new CompletableFuture<>());
        lock.lock();
        try {
            checkOpen();
            decodes.add(d);
            work.signalAll();
        } finally {
            lock.unlock();
        }
        return await(d.result);
    }

    /** Decode steps run so far and the rows they carried (for tests and statistics). */
    long[] stepsAndRows() {
        lock.lock();
        try {
            return new long[] {steps, rowsStepped};
        } finally {
            lock.unlock();
        }
    }

    private static float[] await(CompletableFuture<float[]> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the model's batch scheduler is closed");
        }
    }

    private void loop() {
        try {
            while (true) {
                List<Decode> step = new ArrayList<>();
                lock.lock();
                try {
                    while (true) {
                        if (closed) {
                            failPending();
                            return;
                        }
                        long now = System.nanoTime();
                        long wait = Math.max(MIN_WAIT_NANOS, Math.min(MAX_WAIT_NANOS, lastStepNanos / 2));
                        boolean decodeReady = !decodes.isEmpty() && (decodes.size() >= members - prefilling
                                || decodes.size() >= maxBatch || now - decodes.peek().submitted() >= wait);
                        if (decodeReady) {
                            while (!decodes.isEmpty() && step.size() < maxBatch) {
                                step.add(decodes.poll());
                            }
                        }
                        if (!step.isEmpty()) {
                            break;
                        }
                        if (decodes.isEmpty()) {
                            work.await();
                        } else {
                            work.awaitNanos(Math.max(1, wait - (now - decodes.peek().submitted())));
                        }
                    }
                } finally {
                    lock.unlock();
                }
                long t0 = System.nanoTime();
                runStep(step);
                long took = System.nanoTime() - t0;
                lock.lock();
                try {
                    lastStepNanos = took;
                    steps++;
                    rowsStepped += step.size();
                } finally {
                    lock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (batch != null) {
                batch.close();
            }
        }
    }

    private void runStep(List<Decode> step) {
        List<Session> sessions = new ArrayList<>(step.size());
        int[] tokens = new int[step.size()];
        for (int i = 0; i < step.size(); i++) {
            sessions.add(step.get(i).session());
            tokens[i] = step.get(i).token();
        }
        try {
            if (batch == null) {
                batch = model.newDecodeBatch(maxBatch);
            }
            float[][] logits = batch.step(sessions, tokens);
            for (int i = 0; i < step.size(); i++) {
                step.get(i).result().complete(logits[i]);
            }
        } catch (Throwable e) {
            if (step.size() == 1) {
                step.get(0).result().completeExceptionally(e);
                return;
            }
            // keep one sequence's failure its own: retry each alone (a session a failed step left half-way refuses
            // with its own error)
            for (Decode d : step) {
                try {
                    d.result().complete(batch.step(List.of(d.session()), new int[] {d.token()})[0]);
                } catch (Throwable alone) {
                    d.result().completeExceptionally(alone);
                }
            }
        }
    }

    private void failPending() {
        IllegalStateException e = new IllegalStateException("the model was closed while this generation waited for a step");
        decodes.forEach(d -> d.result().completeExceptionally(e));
        decodes.clear();
    }

    /** Stops the scheduler thread (pending requests fail) and releases its scratch. */
    @Override
    public void close() {
        Thread t;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            work.signalAll();
            t = thread;
        } finally {
            lock.unlock();
        }
        if (t != null) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
