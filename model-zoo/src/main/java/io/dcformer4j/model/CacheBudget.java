package io.dcformer4j.model;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes a model's sessions may hold in KV caches, all sessions together. A session reserves what its
 * caches will grow by before each step runs and gives it back when it closes, so a step that does not fit is
 * refused up front with a {@link CacheBudgetExceededException} naming the sizes, never an
 * {@link OutOfMemoryError} part-way. The limit comes from {@link #PROPERTY} (bytes, or with a k, m or g
 * suffix), else from the memory the JVM can still take when the model is created; it can be changed at any
 * time with {@link #setLimit(long)}.
 */
public final class CacheBudget {
    /** The system property that sets the default limit, e.g. {@code -Ddcformer4j.cacheBudget=2g}. */
    public static final String PROPERTY = "dcformer4j.cacheBudget";
    /** Share of the memory still free when the model is created that caches may take by default. */
    static final double DEFAULT_SHARE = 0.8;

    private final AtomicLong inUse = new AtomicLong();
    private volatile long limit;

    CacheBudget(long limit) {
        setLimit(limit);
    }

    /** The limit from {@link #PROPERTY}, else {@value #DEFAULT_SHARE} of the heap the JVM can still grow into. */
    static CacheBudget fromEnvironment() {
        String p = System.getProperty(PROPERTY);
        if (p != null) {
            return new CacheBudget(parse(p));
        }
        Runtime rt = Runtime.getRuntime();
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return new CacheBudget(Math.max(1, (long) (free * DEFAULT_SHARE)));
    }

    /** Parses bytes with an optional k, m or g suffix (powers of 1024). */
    static long parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty() && "kmg".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmg".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Math.multiplyExact(Long.parseLong(t), unit);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("cache budget '" + text + "' (system property " + PROPERTY
                    + ") must be a positive number of bytes, optionally with a k, m or g suffix");
        }
    }

    /** The limit in bytes. */
    public long limit() {
        return limit;
    }

    /** Changes the limit; sessions already holding more keep what they hold but cannot grow. */
    public void setLimit(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("cache budget must be positive, got " + bytes);
        }
        limit = bytes;
    }

    /** Bytes reserved by open sessions. */
    public long inUse() {
        return inUse.get();
    }

    /** Reserves {@code bytes} if they fit under the limit; returns whether they did. */
    public boolean tryReserve(long bytes) {
        while (true) {
            long now = inUse.get();
            if (bytes > limit - now) {
                return false;
            }
            if (inUse.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Reserves {@code bytes} or throws naming the sizes; {@code what} says what needed them. */
    void reserve(long bytes, String what) {
        if (bytes > 0 && !tryReserve(bytes)) {
            throw new CacheBudgetExceededException(what + ": the KV caches need " + bytes + " more bytes, but "
                    + inUse() + " of the cache budget of " + limit + " bytes are in use (raise it with -D" + PROPERTY
                    + "=<bytes> or DCFormerModel.cacheBudget().setLimit, give a smaller maximum context, or close "
                    + "sessions)", bytes, limit, inUse());
        }
    }

    /** Gives back {@code bytes}. */
    void release(long bytes) {
        inUse.addAndGet(-bytes);
    }
}
