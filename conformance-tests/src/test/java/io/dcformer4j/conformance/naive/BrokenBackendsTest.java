package io.dcformer4j.conformance.naive;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.conformance.SuiteLauncher;
import io.dcformer4j.conformance.SuiteOutcome;
import io.dcformer4j.conformance.TckSeed;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kit must catch real kernel bugs: the whole suite runs (through the JUnit Platform Launcher) against
 * each deliberately broken backend and must fail it, with a failing test named after the broken operation;
 * the same suite passes the correct naive backend, so it is not simply failing everything. Variants whose bug
 * only shows at model sizes, long contexts, other worker counts and so on run the groups that look there.
 */
class BrokenBackendsTest {

    private static SuiteOutcome runAgainst(String variant, String... groups) {
        return SuiteLauncher.run(BrokenBackendSuite.class, Map.of(BrokenBackendSuite.VARIANT, variant), List.of(groups));
    }

    @ParameterizedTest
    @EnumSource(BrokenBackends.class)
    void suiteFailsBrokenBackendNamingTheBrokenOp(BrokenBackends variant) {
        SuiteOutcome outcome = runAgainst(variant.name(), variant.groups());
        System.out.println("[broken backend " + variant + "] passed " + outcome.passed() + ", failed " + outcome.failed());
        outcome.failures().forEach(f -> System.out.println("    " + f.test() + ": "
                + (f.message().length() > 240 ? f.message().substring(0, 240) + "…" : f.message())));
        assertThat(outcome.failed()).as("tests the suite failed on broken backend " + variant).isPositive();
        assertThat(outcome.failures()).as("failing tests on " + variant + " must name the broken op '" + variant.brokenOp() + "'")
                .anySatisfy(f -> assertThat(f.test()).contains(variant.brokenOp()));
        assertThat(outcome.failures()).as("every failure names the seed that replays it")
                .allSatisfy(f -> assertThat(f.message()).contains("-D" + TckSeed.PROPERTY + "=" + TckSeed.seed()));
        assertThat(outcome.passed()).as("the suite still passes the unbroken ops of " + variant).isPositive();
    }

    @Test
    void suitePassesTheCorrectNaiveBackend() {
        SuiteOutcome outcome = runAgainst("none");
        assertThat(outcome.failures()).as("failures on the correct naive backend").isEmpty();
        assertThat(outcome.passed()).as("tests passed on the correct naive backend").isGreaterThan(100);
    }
}
