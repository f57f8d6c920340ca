package io.dcformer4j.model;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The bytes a model's sessions may hold in KV caches, all sessions together. A session reserves what its
 * caches will grow by before each step runs and gives it back when it closes, so a step that does not fit is
 * refused up front with a {@link CacheBudgetExceededException} naming the sizes, never an
 * {@link OutOfMemoryError} part-way. A generation is admitted first ({@link #awaitReserve}): it reserves what its
 * whole sequence may need and, when that does not fit yet, waits in line (bounded, cancellable) until sessions
 * give bytes back; one that needs more than the whole budget is refused at once.
 *
 * <p>The limit comes from {@link #PROPERTY} (bytes, or with a k, m or g suffix), else from the memory free when
 * the model is created: the caches of the CPU backend live off the Java heap, so the default is
 * {@value #DEFAULT_SHARE} of the physical memory available (as the operating system, or the container, reports
 * it; page cache the kernel can reclaim counts as available) less the part of the maximum heap the JVM has not
 * taken yet. It can be changed at any time with
 * {@link #setLimit(long)}.
 */
public final class CacheBudget {
    /** The system property that sets the default limit, e.g. {@code -Ddcformer4j.cacheBudget=2g}. */
    public static final String PROPERTY = "dcformer4j.cacheBudget";
    /** Share of the memory still free when the model is created that caches may take by default. */
    static final double DEFAULT_SHARE = 0.8;
    /** How often a waiting admission looks at its cancellation flag. */
    private static final long CANCEL_POLL_NANOS = 20_000_000;

    private final AtomicLong inUse = new AtomicLong();
    private volatile long limit;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition freed = lock.newCondition();
    /** Admissions waiting, first come first served (only the head may take bytes). */
    private final ArrayDeque<Object> line = new ArrayDeque<>();
    private final AtomicLong waited = new AtomicLong();

    CacheBudget(long limit) {
        setLimit(limit);
    }

    /** The limit from {@link #PROPERTY}, else {@link #defaultLimit()}. */
    static CacheBudget fromEnvironment() {
        String p = System.getProperty(PROPERTY);
        return new CacheBudget(p != null ? parse(p) : defaultLimit());
    }

    /**
     * {@value #DEFAULT_SHARE} of the physical memory available now ({@link AvailableMemory}: reclaimable page cache
     * included; container limits as {@code com.sun.management.OperatingSystemMXBean} reports them) less the heap
     * the JVM may still take, at least 64 MiB; without that bean, {@value #DEFAULT_SHARE} of the heap still free.
     */
    static long defaultLimit() {
        Runtime rt = Runtime.getRuntime();
        long heapToCome = Math.max(0, rt.maxMemory() - rt.totalMemory());
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            long free = AvailableMemory.of(os.getTotalMemorySize(), os.getFreeMemorySize()) - heapToCome;
            return Math.max(64L << 20, (long) (free * DEFAULT_SHARE));
        }
        long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return Math.max(1, (long) (free * DEFAULT_SHARE));
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
        signalFreed();
    }

    /** Admissions that had to wait for bytes so far. */
    public long admissionsWaited() {
        return waited.get();
    }

    /** Admissions waiting now. */
    public int waiting() {
        lock.lock();
        try {
            return line.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Reserves {@code bytes}, waiting in line behind earlier admissions until they fit: returns true once
     * reserved, false when {@code cancelled} turned true first (then nothing is reserved).
     *
     * @param what what needs the bytes, for the messages
     * @throws CacheBudgetExceededException at once when {@code bytes} exceed the whole limit (they can never fit),
     *                                      or when they still do not fit after {@code timeout}
     */
    public boolean awaitReserve(long bytes, Duration timeout, BooleanSupplier cancelled, String what) {
        if (bytes <= 0) {
            return true;
        }
        if (bytes > limit) {
            throw new CacheBudgetExceededException(what + ": needs " + bytes + " bytes of KV cache, more than the whole"
                    + " cache budget of " + limit + " bytes, so it can never be admitted (raise the budget with -D"
                    + PROPERTY + "=<bytes> or EngineOptions.withCacheBudget, or ask for fewer tokens or a smaller"
                    + " context)", bytes, limit, inUse());
        }
        Object ticket = new Object();
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean counted = false;
        lock.lock();
        try {
            line.add(ticket);
            while (true) {
                if (line.peek() == ticket && bytes <= limit && tryReserve(bytes)) {
                    return true;
                }
                if (cancelled.getAsBoolean()) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new CacheBudgetExceededException(what + ": waited " + timeout.toMillis() + " ms for " + bytes
                            + " bytes of KV cache; " + inUse() + " of the cache budget of " + limit + " bytes stay in use"
                            + " by other sessions", bytes, limit, inUse());
                }
                if (!counted) {
                    counted = true;
                    waited.incrementAndGet();
                }
                try {
                    freed.awaitNanos(Math.min(left, CANCEL_POLL_NANOS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CacheBudgetExceededException(what + ": interrupted while waiting for " + bytes
                            + " bytes of KV cache", bytes, limit, inUse());
                }
            }
        } finally {
            line.remove(ticket);
            freed.signalAll();
            lock.unlock();
        }
    }

    private void signalFreed() {
        lock.lock();
        try {
            freed.signalAll();
        } finally {
            lock.unlock();
        }
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

    /** Gives back {@code bytes} (waiting admissions look again). */
    void release(long bytes) {
        if (bytes != 0) {
            inUse.addAndGet(-bytes);
            signalFreed();
        }
    }
}
