package io.dcformer4j.conformance;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.platform.engine.FilterResult;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.PostDiscoveryFilter;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/** Runs a suite class through the JUnit Platform Launcher and collects its outcome. */
public final class SuiteLauncher {
    private SuiteLauncher() {
    }

    /**
     * Runs every test of {@code suite} with the given configuration parameters.
     *
     * @param suite         a concrete subclass of {@link BackendConformanceSuite}
     * @param configuration launcher configuration parameters (for example {@link ProviderConformanceSuite#PROVIDER})
     */
    public static SuiteOutcome run(Class<?> suite, Map<String, String> configuration) {
        return run(suite, configuration, List.of());
    }

    /**
     * Runs the tests of the named groups only (nested classes of {@link BackendConformanceSuite}, such as
     * "LongContext"); every test when {@code groups} is empty.
     */
    public static SuiteOutcome run(Class<?> suite, Map<String, String> configuration, List<String> groups) {
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(suite))
                .configurationParameters(configuration);
        if (!groups.isEmpty()) {
            builder.filters((PostDiscoveryFilter) descriptor -> descriptor.getSource()
                    .filter(MethodSource.class::isInstance)
                    .map(source -> {
                        String className = ((MethodSource) source).getClassName();
                        String group = className.substring(className.lastIndexOf('$') + 1);
                        return groups.contains(group) ? FilterResult.included("in group " + group)
                                : FilterResult.excluded("group " + group + " not selected");
                    })
                    .orElse(FilterResult.included("a container")));
        }
        LauncherDiscoveryRequest request = builder.build();
        Collector collector = new Collector();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, collector);
        return new SuiteOutcome(collector.passed.get(), collector.failed.get(), collector.skipped.get(), collector.failures);
    }

    private static final class Collector implements TestExecutionListener {
        final AtomicLong passed = new AtomicLong();
        final AtomicLong failed = new AtomicLong();
        final AtomicLong skipped = new AtomicLong();
        final List<SuiteOutcome.Failure> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        private TestPlan plan;

        @Override
        public void testPlanExecutionStarted(TestPlan testPlan) {
            plan = testPlan;
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                skipped.incrementAndGet();
            } else {
                skipped.addAndGet(Math.max(1, plan.getDescendants(id).stream().filter(TestIdentifier::isTest).count()));
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            switch (result.getStatus()) {
                case SUCCESSFUL -> {
                    if (id.isTest()) {
                        passed.incrementAndGet();
                    }
                }
                case ABORTED -> {
                    if (id.isTest()) {
                        skipped.incrementAndGet();
                    }
                }
                case FAILED -> {
                    failed.incrementAndGet();
                    String message = result.getThrowable().map(t -> String.valueOf(t.getMessage())).orElse("failed");
                    int newline = message.indexOf('\n');
                    failures.add(new SuiteOutcome.Failure(path(id), newline < 0 ? message : message.substring(0, newline)));
                }
            }
        }

        private String path(TestIdentifier id) {
            List<String> names = new ArrayList<>();
            for (TestIdentifier cur = id; cur != null; cur = plan.getParent(cur).orElse(null)) {
                if (cur.getParentId().isPresent()) {
                    names.addFirst(cur.getDisplayName());
                }
            }
            return String.join(" > ", names);
        }
    }
}
