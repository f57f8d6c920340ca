package io.dcformer4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendSelectorTest {

    /** A provider that opens nothing; selection tests only look at which one is chosen. */
    private record FakeProvider(String name, int priority, Availability availability) implements BackendProvider {
        @Override
        public Backend open(BackendOptions options) {
            throw new BackendUnavailableException("fake provider " + name + " cannot open");
        }
    }

    private static final FakeProvider CPU = new FakeProvider("cpu", 10, Availability.available("2 threads"));
    private static final FakeProvider FAST = new FakeProvider("fast", 20, Availability.available("fast one"));
    private static final FakeProvider GPU = new FakeProvider("gpu", 100, Availability.unavailable("no CUDA driver found"));

    private static BackendSelector selector(Map<String, String> props, Map<String, String> env) {
        return new BackendSelector(List.of(CPU, FAST, GPU), props::get, env::get);
    }

    @Test
    void explicitNameWinsOverPropertyAndEnvironment() {
        var s = selector(Map.of(BackendSelector.PROPERTY, "fast"), Map.of(BackendSelector.ENVIRONMENT, "fast"));
        assertThat(s.choose("cpu").provider()).isEqualTo(CPU);
        assertThat(s.choose("CPU").source()).isEqualTo("requested by name");
    }

    @Test
    void propertyWinsOverEnvironment() {
        var s = selector(Map.of(BackendSelector.PROPERTY, "cpu"), Map.of(BackendSelector.ENVIRONMENT, "fast"));
        assertThat(s.choose(null).provider()).isEqualTo(CPU);
        assertThat(s.choose(null).source()).contains(BackendSelector.PROPERTY);
    }

    @Test
    void environmentWinsOverPriority() {
        var s = selector(Map.of(), Map.of(BackendSelector.ENVIRONMENT, "cpu"));
        assertThat(s.choose(null).provider()).isEqualTo(CPU);
        assertThat(s.choose(null).source()).contains(BackendSelector.ENVIRONMENT);
    }

    @Test
    void highestPriorityAvailableProviderByDefault() {
        var s = selector(Map.of(), Map.of());
        assertThat(s.choose(null).provider()).isEqualTo(FAST);
        assertThat(s.choose("  ").provider()).isEqualTo(FAST);
    }

    @Test
    void unknownNameFailsListingEveryProvider() {
        var s = selector(Map.of(), Map.of());
        assertThatThrownBy(() -> s.choose("tpu"))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("no backend named 'tpu'")
                .hasMessageContaining("cpu (priority 10): available")
                .hasMessageContaining("fast (priority 20): available")
                .hasMessageContaining("gpu (priority 100): unavailable — no CUDA driver found");
    }

    @Test
    void unavailableNamedProviderNeverFallsBack() {
        var s = selector(Map.of(BackendSelector.PROPERTY, "gpu"), Map.of());
        assertThatThrownBy(() -> s.choose(null))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("backend 'gpu' (system property dcformer4j.backend) is unavailable: no CUDA driver found")
                .hasMessageContaining("cpu (priority 10)");
    }

    @Test
    void nothingAvailableIsAnError() {
        var s = new BackendSelector(List.of(GPU), k -> null, k -> null);
        assertThatThrownBy(() -> s.choose(null)).hasMessageContaining("no backend is available")
                .hasMessageContaining("no CUDA driver found");
        var none = new BackendSelector(List.of(), k -> null, k -> null);
        assertThatThrownBy(() -> none.choose(null)).hasMessageContaining("Providers found: none");
    }

    @Test
    void throwingAvailabilityIsReportedNotPropagated() {
        BackendProvider bad = new BackendProvider() {
            public String name() { return "bad"; }
            public int priority() { return 1000; }
            public Availability availability() { throw new UnsatisfiedLinkError("libcuda.so"); }
            public Backend open(BackendOptions o) { throw new AssertionError(); }
        };
        var s = new BackendSelector(List.of(bad, CPU), k -> null, k -> null);
        assertThat(s.choose(null).provider()).isEqualTo(CPU);
        assertThat(s.describe()).contains("bad (priority 1000): unavailable — availability check failed").contains("libcuda.so");
    }

    @Test
    void openReportsProviderFailureWithList() {
        var s = selector(Map.of(), Map.of());
        assertThatThrownBy(() -> s.open("cpu", BackendOptions.defaults()))
                .hasMessageContaining("backend 'cpu' failed to open: fake provider cpu cannot open")
                .hasMessageContaining("Providers found:");
    }
}
