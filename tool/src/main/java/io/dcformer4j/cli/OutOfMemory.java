package io.dcformer4j.cli;

import java.util.Locale;

/**
 * An out-of-memory condition as one line with the sizes involved, instead of a stack trace: what ran out,
 * the heap limit and use, and how to raise the limit through the launcher.
 */
final class OutOfMemory {
    private OutOfMemory() {
    }

    /** The one line for {@code e}, with the heap limit and the heap in use in bytes. */
    static String describe(OutOfMemoryError e, long maxHeap, long usedHeap) {
        String what = e.getMessage() == null || e.getMessage().isBlank() ? "memory" : e.getMessage();
        return String.format(Locale.ROOT, "dcformer4j: out of memory (%s): Java heap limit %s, %s in use; raise the "
                + "limit with JAVA_OPTS=-Xmx<size> (for example -Xmx%dg), or use a smaller -c/--ctx-size or model",
                what, gib(maxHeap), gib(usedHeap), Math.max(2, 2 * (long) Math.ceil(maxHeap / (double) (1L << 30))));
    }

    /** The line for the running JVM. */
    static String describe(OutOfMemoryError e) {
        Runtime rt = Runtime.getRuntime();
        return describe(e, rt.maxMemory(), rt.totalMemory() - rt.freeMemory());
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
    }
}
