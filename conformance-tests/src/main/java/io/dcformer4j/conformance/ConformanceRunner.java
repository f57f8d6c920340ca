package io.dcformer4j.conformance;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendSelector;
import io.dcformer4j.api.Backends;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Runs the conformance suite against every backend provider {@link java.util.ServiceLoader} finds (or the
 * ones named on the command line) and prints a one-screen summary. A provider that is unavailable on this
 * machine is reported SKIPPED with its reason: it is never counted as passed. Exit status 1 when any
 * backend failed a test (or a named provider is missing), 0 otherwise.
 */
public final class ConformanceRunner {
    private ConformanceRunner() {
    }

    /** How a backend came out. */
    public enum Status {
        /** Every test passed. */
        PASSED,
        /** At least one test failed. */
        FAILED,
        /** Not run: the provider is unavailable here (or missing), for the reason given. */
        SKIPPED
    }

    /**
     * One row of the summary.
     *
     * @param backend  provider name
     * @param status   the verdict
     * @param outcome  test counts and failures; null when the suite was not run
     * @param reason   why it was skipped, or the availability description, or the first failure
     */
    public record BackendResult(String backend, Status status, SuiteOutcome outcome, String reason) {
    }

    /** Command line: {@code ConformanceRunner [provider ...]}; no names means every provider found. */
    public static void main(String[] args) {
        List<BackendResult> results = args.length == 0 ? runAll() : runNamed(Arrays.asList(args));
        System.out.println(summary(results));
        boolean failed = results.stream().anyMatch(r -> r.status() == Status.FAILED)
                || (args.length > 0 && results.stream().anyMatch(r -> r.outcome() == null));
        if (failed) {
            System.exit(1);
        }
    }

    /** Runs the suite for every provider found, highest priority first. */
    public static List<BackendResult> runAll() {
        List<BackendResult> results = new ArrayList<>();
        for (BackendProvider provider : Backends.providers()) {
            results.add(run(provider));
        }
        return results;
    }

    /** Runs the suite for the named providers; a name that is not found is reported SKIPPED as missing. */
    public static List<BackendResult> runNamed(List<String> names) {
        List<BackendProvider> found = Backends.providers();
        List<BackendResult> results = new ArrayList<>();
        for (String name : names) {
            BackendProvider provider = found.stream().filter(p -> p.name().equals(name)).findFirst().orElse(null);
            results.add(provider == null
                    ? new BackendResult(name, Status.SKIPPED, null, "no provider named '" + name + "' on the class path")
                    : run(provider));
        }
        return results;
    }

    /** Runs the suite for one provider, or reports it SKIPPED when it is unavailable. */
    public static BackendResult run(BackendProvider provider) {
        Availability availability = BackendSelector.safeAvailability(provider);
        if (!availability.available()) {
            return new BackendResult(provider.name(), Status.SKIPPED, null, availability.reason());
        }
        SuiteOutcome outcome = SuiteLauncher.run(ProviderConformanceSuite.class,
                Map.of(ProviderConformanceSuite.PROVIDER, provider.name()));
        if (outcome.failed() > 0) {
            return new BackendResult(provider.name(), Status.FAILED, outcome, outcome.failures().getFirst().toString());
        }
        if (outcome.passed() == 0) {
            return new BackendResult(provider.name(), Status.FAILED, outcome, "no test ran");
        }
        return new BackendResult(provider.name(), Status.PASSED, outcome, availability.reason());
    }

    /** The summary table, followed by every failure line. */
    public static String summary(List<BackendResult> results) {
        StringBuilder sb = new StringBuilder();
        String format = "%-12s %-8s %7s %7s %8s  %s%n";
        sb.append("dcformer4j backend conformance ").append(TckSeed.replayHint()).append('\n');
        sb.append(String.format(format, "backend", "status", "passed", "failed", "skipped", "reason"));
        for (BackendResult r : results) {
            SuiteOutcome o = r.outcome();
            sb.append(String.format(format, r.backend(), r.status(), o == null ? "-" : o.passed(), o == null ? "-" : o.failed(),
                    o == null ? "-" : o.skipped(), abbreviate(r.reason(), 100)));
        }
        for (BackendResult r : results) {
            if (r.outcome() != null) {
                for (SuiteOutcome.Failure failure : r.outcome().failures()) {
                    sb.append("  ").append(r.backend()).append(" FAILED ").append(abbreviate(failure.toString(), 400)).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** Prints the summary to a stream (CI logs). */
    public static void print(List<BackendResult> results, PrintStream out) {
        out.print(summary(results));
        out.flush();
    }

    private static String abbreviate(String s, int max) {
        String oneLine = s == null ? "" : s.replace('\n', ' ');
        return oneLine.length() <= max ? oneLine : oneLine.substring(0, max - 1) + "…";
    }
}
