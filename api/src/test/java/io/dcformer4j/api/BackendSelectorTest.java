package io.dcformer4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
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
                .hasMessageContaining("backend 'cpu' (requested by name) failed to open: fake provider cpu cannot open")
                .hasMessageContaining("Providers found:");
    }

    /** A backend that only knows its name and whether it was closed; selection never calls more. */
    private static Backend backendNamed(String name) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "name" -> name;
                    case "close" -> null;
                    case "toString" -> "fake backend " + name;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    /** Reports itself available, then opens with what {@code open} supplies (or throws). */
    private record OpeningProvider(String name, int priority, Supplier<Backend> opener) implements BackendProvider {
        static OpeningProvider working(String name, int priority) {
            return new OpeningProvider(name, priority, () -> backendNamed(name));
        }

        static OpeningProvider failing(String name, int priority, RuntimeException failure) {
            return new OpeningProvider(name, priority, () -> {
                throw failure;
            });
        }

        static OpeningProvider failing(String name, int priority, Error failure) {
            return new OpeningProvider(name, priority, () -> {
                throw failure;
            });
        }

        @Override
        public Availability availability() {
            return Availability.available("says it can run");
        }

        @Override
        public Backend open(BackendOptions options) {
            return opener.get();
        }
    }

    private static final OpeningProvider WORKING_CPU = OpeningProvider.working("cpu", 10);

    private static BackendSelector automatic(List<String> warnings, BackendProvider... providers) {
        return new BackendSelector(List.of(providers), k -> null, k -> null).withWarnings(warnings::add);
    }

    @Test
    void automaticSelectionWarnsOnceAndOpensTheNextProviderWhenTheBestFailsToOpen() {
        List<String> warnings = new ArrayList<>();
        var cuda = OpeningProvider.failing("cuda", 100,
                new BackendUnavailableException("cuda backend: cannot open device 0: CUDA_ERROR_OUT_OF_MEMORY"));
        BackendSelection s = automatic(warnings, cuda, WORKING_CPU).select(null, BackendOptions.defaults());
        assertThat(s.backend().name()).isEqualTo("cpu");
        assertThat(s.fellBack()).isTrue();
        assertThat(s.fallbacks()).containsExactly(new BackendSelection.FailedOpen("cuda", "cannot open device 0: CUDA_ERROR_OUT_OF_MEMORY"));
        assertThat(warnings).containsExactly("cuda: cannot open device 0: CUDA_ERROR_OUT_OF_MEMORY; using cpu");
        assertThat(s.warnings()).isEqualTo(warnings);
        assertThat(s.summary()).isEqualTo("cpu (next available provider by priority; cuda failed to open: cannot open device 0: "
                + "CUDA_ERROR_OUT_OF_MEMORY)");
    }

    @Test
    void anErrorFromOpenSuchAsAMissingClassOrNativeLibraryAlsoFallsBackWithItsReason() {
        for (Error error : new Error[] {new NoClassDefFoundError("jcuda/driver/CUdeviceptr"),
                new UnsatisfiedLinkError("no JCudaDriver-12.0.0-linux-x86_64 in java.library.path")}) {
            List<String> warnings = new ArrayList<>();
            BackendSelection s = automatic(warnings, OpeningProvider.failing("cuda", 100, error), WORKING_CPU)
                    .select(null, BackendOptions.defaults());
            assertThat(s.backend().name()).isEqualTo("cpu");
            assertThat(warnings).containsExactly("cuda: " + error + "; using cpu");
            assertThat(warnings.getFirst()).doesNotContain("\n");
        }
    }

    @Test
    void aMultiLineFailureBecomesOneWarningLine() {
        List<String> warnings = new ArrayList<>();
        var cuda = OpeningProvider.failing("cuda", 100, new IllegalStateException("first line\nsecond line"));
        automatic(warnings, cuda, WORKING_CPU).select(null, BackendOptions.defaults());
        assertThat(warnings).containsExactly("cuda: java.lang.IllegalStateException: first line; using cpu");
    }

    @Test
    void aFirstChoiceThatOpensGivesNoWarning() {
        List<String> warnings = new ArrayList<>();
        BackendSelection s = automatic(warnings, OpeningProvider.working("cuda", 100), WORKING_CPU)
                .select(null, BackendOptions.defaults());
        assertThat(s.backend().name()).isEqualTo("cuda");
        assertThat(s.fellBack()).isFalse();
        assertThat(s.summary()).isEqualTo("cuda (highest-priority available provider)");
        assertThat(warnings).isEmpty();
    }

    @Test
    void unavailableProvidersAreNotTriedAndAWarningNamesOnlyTheOneThatFailed() {
        List<String> warnings = new ArrayList<>();
        var broken = OpeningProvider.failing("fast", 50, new BackendUnavailableException("fast: device lost"));
        BackendSelection s = automatic(warnings, GPU, broken, WORKING_CPU).select(null, BackendOptions.defaults());
        assertThat(s.backend().name()).isEqualTo("cpu");
        assertThat(warnings).containsExactly("fast: device lost; using cpu");
    }

    @Test
    void aNamedBackendThatFailsToOpenNeverFallsBack() {
        var cuda = OpeningProvider.failing("cuda", 100, new NoClassDefFoundError("jcuda/driver/CUdeviceptr"));
        List<String> warnings = new ArrayList<>();
        var byName = automatic(warnings, cuda, WORKING_CPU);
        assertThatThrownBy(() -> byName.select("cuda", BackendOptions.defaults()))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("backend 'cuda' (requested by name) failed to open: java.lang.NoClassDefFoundError: "
                        + "jcuda/driver/CUdeviceptr")
                .hasMessageContaining("Providers found:");
        var byProperty = new BackendSelector(List.of(cuda, WORKING_CPU), Map.of(BackendSelector.PROPERTY, "cuda")::get, k -> null)
                .withWarnings(warnings::add);
        assertThatThrownBy(() -> byProperty.open(null, BackendOptions.defaults()))
                .hasMessageContaining("backend 'cuda' (system property dcformer4j.backend) failed to open");
        assertThat(warnings).isEmpty();
    }

    @Test
    void whenNothingOpensTheErrorGivesEveryReason() {
        List<String> warnings = new ArrayList<>();
        var cuda = OpeningProvider.failing("cuda", 100, new BackendUnavailableException("cuda backend: no context"));
        var cpu = OpeningProvider.failing("cpu", 10, new UnsatisfiedLinkError("libfoo"));
        assertThatThrownBy(() -> automatic(warnings, cuda, cpu).select(null, BackendOptions.defaults()))
                .isInstanceOf(BackendUnavailableException.class)
                .hasMessageContaining("no available backend could be opened: cuda: no context; cpu: java.lang.UnsatisfiedLinkError: libfoo;")
                .hasMessageContaining("Providers found:");
        assertThat(warnings).isEmpty();
    }

    @Test
    void invalidOptionsAreTheCallersErrorAndAreNotSkippedOver() {
        var cuda = OpeningProvider.failing("cuda", 100, new IllegalArgumentException("cuda.device must be a device ordinal, got 'x'"));
        assertThatThrownBy(() -> automatic(new ArrayList<>(), cuda, WORKING_CPU).select(null, BackendOptions.defaults()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cuda.device");
    }
}
