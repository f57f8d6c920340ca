package io.dcformer4j.server;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits that cannot hang a test run. Reading a response stream or a process pipe blocks without a deadline and
 * ignores interrupts, and {@link HttpClient#close()} waits for every exchange, including a stream nobody reads
 * any more after a failed assertion; a test that blocks there stalls the whole build instead of failing.
 */
final class Bounded {
    private Bounded() {
    }

    /** Runs {@code call} on a virtual thread and returns its result, or fails once {@code limit} has passed. */
    static <T> T within(Duration limit, String what, Callable<T> call) throws Exception {
        FutureTask<T> task = new FutureTask<>(call);
        Thread worker = Thread.ofVirtual().name("bounded: " + what).start(task);
        try {
            return task.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            worker.interrupt();
            throw new AssertionError(what + " did not finish within " + limit, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw new AssertionError(what + " failed", e.getCause());
        }
    }

    /** Closes a client without waiting on exchanges still open (their streams are aborted). */
    static void closeNow(HttpClient http) {
        http.shutdownNow();
        try {
            http.awaitTermination(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
