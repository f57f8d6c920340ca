package io.dcformer4j.spark;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.util.TaskCompletionListener;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Runs a partition's rows through a {@link RowFunction} with up to {@code batchSize} rows in flight at once,
 * each on its own thread and session of the shared model (so an engine that batches concurrent sessions'
 * decode steps sees {@code batchSize} of them), and emits the results in input order. As soon as the oldest
 * row is done the next one is started, so the window stays full until the input runs out.
 *
 * <p>Each output row is the input row's values, then the function's values, then the error message (null
 * when the row succeeded). A row that fails with {@link RowFailure} or {@link IllegalArgumentException} gets
 * nulls and the message, or fails the task when {@code failOnError} is set. Threads and sessions are released
 * when the input is exhausted or the Spark task ends, whichever comes first (a {@code limit} may stop reading
 * early).
 */
final class PartitionRunner implements Iterator<Row> {
    private static final AtomicInteger POOLS = new AtomicInteger();
    private final Iterator<Row> rows;
    private final int inputIndex;
    private final int outputs;
    private final int window;
    private final boolean failOnError;
    private final RowFunction function;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Row>> inFlight = new ArrayDeque<>();
    private boolean closed;

    /**
     * @param rows        the partition's input rows
     * @param inputIndex  index of the input text column
     * @param outputs     number of values {@code function} returns per row
     * @param batchSize   rows in flight at once (at least 1)
     * @param failOnError whether a bad row fails the task instead of getting an error entry
     * @param function    the per-row work, closed with this runner
     */
    PartitionRunner(Iterator<Row> rows, int inputIndex, int outputs, int batchSize, boolean failOnError,
                    RowFunction function) {
        this.rows = rows;
        this.inputIndex = inputIndex;
        this.outputs = outputs;
        this.window = batchSize;
        this.failOnError = failOnError;
        this.function = function;
        int id = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(batchSize, r -> {
            Thread t = new Thread(r, "dcformer4j-spark-" + id + "-row-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        TaskContext task = TaskContext.get();
        if (task != null) {
            task.addTaskCompletionListener((TaskCompletionListener) ctx -> close());
        }
    }

    @Override
    public boolean hasNext() {
        boolean more = !inFlight.isEmpty() || !closed && rows.hasNext();
        if (!more) {
            close();
        }
        return more;
    }

    @Override
    public Row next() {
        while (!closed && inFlight.size() < window && rows.hasNext()) {
            Row row = rows.next();
            Object[] values = new Object[row.length()]; // read here: Spark may reuse the row object
            for (int i = 0; i < values.length; i++) {
                values[i] = row.get(i);
            }
            inFlight.add(pool.submit(() -> process(values)));
        }
        Future<Row> head = inFlight.poll();
        if (head == null) {
            throw new NoSuchElementException("no more rows in this partition");
        }
        try {
            return head.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while waiting for a row", e);
        } catch (ExecutionException e) {
            close();
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
    }

    private Row process(Object[] inputs) {
        Object[] out = Arrays.copyOf(inputs, inputs.length + outputs + 1);
        try {
            Object[] values = function.apply(RowText.read(inputs[inputIndex]));
            System.arraycopy(values, 0, out, inputs.length, outputs);
        } catch (RowFailure | IllegalArgumentException e) {
            if (failOnError) {
                throw new IllegalArgumentException("dcformer4j: a row failed and failOnError is set: " + e.getMessage()
                        + " (input: " + preview(inputs[inputIndex]) + ")", e);
            }
            out[inputs.length + outputs] = e.getMessage();
        }
        return RowFactory.create(out);
    }

    private static String preview(Object v) {
        String s = v instanceof byte[] b ? b.length + " bytes" : String.valueOf(v);
        return s.length() <= 80 ? "\"" + s + "\"" : "\"" + s.substring(0, 77) + "...\"";
    }

    private synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Future<Row> f : inFlight) {
            f.cancel(true);
        }
        inFlight.clear();
        pool.shutdownNow();
        try {
            pool.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            function.close();
        }
    }
}
