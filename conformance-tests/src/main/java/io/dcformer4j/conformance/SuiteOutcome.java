package io.dcformer4j.conformance;

import java.util.List;

/**
 * What one launch of the suite produced.
 *
 * @param passed   tests that succeeded
 * @param failed   tests (or containers) that failed
 * @param skipped  tests that were skipped or aborted
 * @param failures every failure, in the order they happened
 */
public record SuiteOutcome(long passed, long failed, long skipped, List<Failure> failures) {
    /** Defensive copy. */
    public SuiteOutcome {
        failures = List.copyOf(failures);
    }

    /**
     * One failed test.
     *
     * @param test    the test's path of display names ("CpuConformanceTest: attention > attentionPrefillGlobal()")
     * @param message the first line of the failure's message
     */
    public record Failure(String test, String message) {
        @Override
        public String toString() {
            return test + ": " + message;
        }
    }
}
