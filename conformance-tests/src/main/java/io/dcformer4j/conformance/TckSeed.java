package io.dcformer4j.conformance;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * The random seed of a kit run: fresh for every JVM unless the system property {@value #PROPERTY} replays
 * one. Each test derives its own generator from the seed and its method name, so one failing test replays
 * alone. As a JUnit extension it prefixes every failure with the seed and the flag that replays it.
 */
public final class TckSeed implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
    /** System property that fixes the seed, to replay a failure. */
    public static final String PROPERTY = "dcformer4j.tck.seed";

    private static final long SEED = chooseSeed();

    /** The seed of this JVM's run. */
    public static long seed() {
        return SEED;
    }

    /** The generator of one test: the run's seed mixed with the test's method name. */
    public static SplittableRandom random(String testName) {
        return random(SEED, testName);
    }

    /** The generator a run with {@code seed} gives the test {@code testName}: replays one test's inputs. */
    static SplittableRandom random(long seed, String testName) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ testName.hashCode());
    }

    /** How a failure message names the seed. */
    public static String replayHint() {
        return "[dcformer4j TCK seed " + SEED + "; replay with -D" + PROPERTY + "=" + SEED + "]";
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withSeed(context, throwable);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withSeed(context, throwable);
    }

    @Override
    public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withSeed(context, throwable);
    }

    /** The failure with the seed in front of its message; assumptions (skips) pass through unchanged. */
    private static Throwable withSeed(ExtensionContext context, Throwable throwable) {
        if (throwable instanceof TestAbortedException || String.valueOf(throwable.getMessage()).startsWith("[dcformer4j TCK seed")) {
            return throwable;
        }
        return new AssertionError(replayHint() + " " + context.getDisplayName() + ": " + throwable, throwable);
    }

    private static long chooseSeed() {
        String fixed = System.getProperty(PROPERTY);
        if (fixed != null && !fixed.isBlank()) {
            try {
                return Long.parseLong(fixed.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system property " + PROPERTY + " must be a long, got '" + fixed + "'", e);
            }
        }
        return new SecureRandom().nextLong();
    }
}
