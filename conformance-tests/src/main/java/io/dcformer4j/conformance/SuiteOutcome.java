package io.dcformer4j.conformance;

import java.util.List;

/**
 * What one launch of the suite produced.
 *
 * @param passed   tests that succeeded
 * @param failed   tests (or containers) that failed
 * @param skipped  tests that were skipped or aborted
 * @param failures one line per failure: the test's path ("attention > attentionPrefillGlobal()") and the
 *                 first line of its message
 */
public record SuiteOutcome(long passed, long failed, long skipped, List<String> failures) {
    /** Defensive copy. */
    public SuiteOutcome {
        failures = List.copyOf(failures);
    }
}
