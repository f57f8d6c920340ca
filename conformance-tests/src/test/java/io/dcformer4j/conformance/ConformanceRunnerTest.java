package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendSelector;
import io.dcformer4j.api.Backends;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Runs the runner over every provider on the test class path (cpu, and cuda, which is unavailable on a
 * machine without a GPU) and prints its summary, so CI output ends with the conformance table.
 */
class ConformanceRunnerTest {

    @Test
    void runnerCoversEveryProviderAndReportsUnavailableOnesAsSkipped() {
        List<BackendProvider> providers = Backends.providers();
        List<ConformanceRunner.BackendResult> results = ConformanceRunner.runAll();
        ConformanceRunner.print(results, System.out);

        assertThat(results).extracting(ConformanceRunner.BackendResult::backend)
                .containsExactlyElementsOf(providers.stream().map(BackendProvider::name).toList());
        assertThat(results).extracting(ConformanceRunner.BackendResult::backend).contains("cpu");
        for (int i = 0; i < providers.size(); i++) {
            BackendProvider provider = providers.get(i);
            ConformanceRunner.BackendResult result = results.get(i);
            if (BackendSelector.safeAvailability(provider).available()) {
                assertThat(result.status()).as("verdict for available provider " + provider.name() + ": " + result.reason())
                        .isEqualTo(ConformanceRunner.Status.PASSED);
                assertThat(result.outcome().passed()).as("tests passed on " + provider.name()).isGreaterThan(50);
            } else {
                assertThat(result.status()).as("verdict for unavailable provider " + provider.name()).isEqualTo(ConformanceRunner.Status.SKIPPED);
                assertThat(result.outcome()).as("an unavailable provider is not run").isNull();
                assertThat(result.reason()).as("skip reason of " + provider.name()).isNotBlank();
            }
        }
        String summary = ConformanceRunner.summary(results);
        assertThat(summary).contains("backend", "passed", "failed", "skipped", "reason");
    }

    @Test
    void missingProviderIsSkippedNeverPassed() {
        List<ConformanceRunner.BackendResult> results = ConformanceRunner.runNamed(List.of("no-such-backend"));
        assertThat(results).singleElement().satisfies(r -> {
            assertThat(r.status()).isEqualTo(ConformanceRunner.Status.SKIPPED);
            assertThat(r.reason()).contains("no-such-backend");
        });
    }
}
