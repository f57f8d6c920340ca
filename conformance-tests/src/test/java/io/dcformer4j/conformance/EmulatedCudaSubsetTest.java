package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectNestedMethod;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * The CUDA backend's kernels, through the whole backend (host code, launch planning, the kernels' own source)
 * on every build: the attention, batched decode and linear groups of the conformance kit at small sizes run on the CPU
 * emulator of the kernels ({@code backend-cuda/src/test/emu}), which this test compiles with g++ into
 * {@code target/emu/libcudaemu.so} first. Without g++ it is skipped with that reason. The tests are named one
 * by one (new, larger kit groups do not slip in); the whole kit on the emulator is a manual command (README).
 */
class EmulatedCudaSubsetTest {
    /**
     * Nested group of the kit and test method; small sizes only: no 512-token block, no 96-row worker check, and
     * of the three all-shapes linear tests only BF16 (the tensor-core GEMM and the GEMV; the F32 and F16 ones
     * each cost as much as the whole attention group on the emulator, and KernelEmulationTest covers their
     * kernels).
     */
    static final List<String> SUBSET = List.of(
            "Attention#attentionPrefillGlobal",
            "Attention#attentionPrefillLocalWindowShorterAndLongerThanTwoWindows",
            "Attention#attentionLocalWindowOfOneKey",
            "Attention#attentionLocalWindowLargerThanSequence",
            "Attention#attentionLocalWindowPlusOneQuirkInPrefill",
            "Attention#attentionDecodeAfterPrefillEqualsOnePrefill",
            "Attention#attentionChunkedPrefillEqualsOnePrefill",
            "Attention#attentionCacheResetStartsANewSequence",
            "Attention#attentionQueryWiseMode",
            "Attention#attentionPlainMhaMode",
            "Attention#attentionStaticComposeWeights",
            "Attention#attentionPreComposeOnly",
            "Attention#attentionPostComposeOnly",
            "Attention#attentionLargeLogitsDoNotOverflowSoftmax",
            "Attention#attentionNaNPropagates",
            "Attention#attentionRejectsTooSmallCaches",
            "Attention#attentionRejectsMismatchedShapes",
            "BatchedDecode#attentionDecodeBatchEqualsEachSequenceDecodeGlobal",
            "BatchedDecode#attentionDecodeBatchEqualsEachSequenceDecodeLocal",
            "BatchedDecode#attentionDecodeBatchOfOneAndOfEqualPositions",
            "BatchedDecode#attentionDecodeBatchRejectsBadBatches",
            "BatchedDecode#ropeRowsEqualsRopeOfEachRow",
            "BatchedDecode#ropeRowsRejectsBadPositions",
            "DynamicWeights#dynamicWeightsFromProjectionMatchesTheOracle",
            "DynamicWeights#dynamicWeightsFromProjectionRejectsBadShapes",
            "Linear#linearBf16Weights",
            "Linear#linearNaNInInputPropagates",
            "Linear#linearQ8_0Weights",
            "Linear#linearQ8_0RowsOfSlicedWeights",
            "Linear#linearQ8_0RefusesPartialBlocksAndOtherOps",
            "Linear#linearRejectsMismatchedShapes",
            "Linear#linearsEqualEachLinear",
            "Linear#linearsRejectsMismatchedLists",
            "Linear#embeddingEveryTableDtype",
            "Linear#embeddingRejectsOutOfRangeIds",
            "Arguments#fromFloatsRefusesNullValuesAndWrongCounts",
            "Arguments#weightsNeedTheExactByteCountOfAFloatDtype",
            "Arguments#viewSliceAndCopyNameTheTensorAndTheSizes",
            "Arguments#embeddingNamesTheBadIdAndTheTableRange",
            "Arguments#linearNamesTheArgumentAndTheSizes",
            "Arguments#rmsNormAndLayerNormNameTheGainAndBias",
            "Arguments#layerNormWithoutBiasIsAZeroShift",
            "Arguments#ropeNamesHeadDimAndStartPos",
            "Arguments#elementwiseOpsNeedOneShape",
            "Arguments#dynamicWeightsNamesTheInputWidthAndTheOutputShape",
            "Arguments#attentionNamesTheCacheTheWindowAndTheShapes");

    private static final String PROPERTY = "dcformer4j.cuda.emulator";
    private static final Path SCRIPT = Path.of("../backend-cuda/src/test/emu/run-emu.sh");
    private static String savedProperty;
    private static boolean propertySet;
    private static long startNanos;
    private static long startCpuNanos;

    @BeforeAll
    static void buildTheEmulator() throws Exception {
        startNanos = System.nanoTime();
        startCpuNanos = processCpuNanos();
        String missing = missingTool();
        if (missing != null) {
            System.out.println("[cuda-emu] emulated conformance subset skipped: " + missing);
            Assumptions.abort(missing);
        }
        Path out = Path.of("target/emu").toAbsolutePath();
        Process p = new ProcessBuilder("bash", SCRIPT.toString(), "--lib", out.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("run-emu.sh --lib finished; log:\n" + log).isTrue();
        assertThat(p.exitValue()).as("run-emu.sh --lib exit status; log:\n" + log).isZero();
        Path lib = out.resolve("libcudaemu.so");
        assertThat(lib).as("emulator library").isRegularFile();
        savedProperty = System.getProperty(PROPERTY);
        System.setProperty(PROPERTY, lib.toString());
        propertySet = true;
    }

    /** CPU time of this JVM so far, or 0 where the platform does not say. */
    private static long processCpuNanos() {
        return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos()).orElse(0L);
    }

    @AfterAll
    static void restoreTheProperty() {
        if (!propertySet) {
            return;
        }
        // Not a limit, a figure for the build log: the subset is meant to stay within a few minutes.
        System.out.printf(Locale.ROOT, "[cuda-emu] emulator build and %d kit tests: %.0f s wall, %.0f s CPU%n", SUBSET.size(),
                (System.nanoTime() - startNanos) / 1e9, (processCpuNanos() - startCpuNanos) / 1e9);
        if (savedProperty == null) {
            System.clearProperty(PROPERTY);
        } else {
            System.setProperty(PROPERTY, savedProperty);
        }
    }

    /** Why the emulator cannot be built here, or null. */
    private static String missingTool() {
        if (!Files.isRegularFile(SCRIPT)) {
            return SCRIPT + " not found (run from the conformance-tests module of a source checkout)";
        }
        if (!runs("bash")) {
            return "bash is not installed (run-emu.sh needs it)";
        }
        return runs("g++") ? null : "g++ is not installed (needed to compile the CUDA kernels for the CPU emulator)";
    }

    private static boolean runs(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @TestFactory
    Stream<DynamicTest> kitTestsOnTheEmulatedCudaBackend() {
        return SUBSET.stream().map(entry -> DynamicTest.dynamicTest(entry.replace('#', '.'), () -> runOne(entry)));
    }

    private static void runOne(String entry) {
        String[] parts = entry.split("#");
        Class<?> group = switch (parts[0]) {
            case "Attention" -> BackendConformanceSuite.Attention.class;
            case "Linear" -> BackendConformanceSuite.Linear.class;
            case "DynamicWeights" -> BackendConformanceSuite.DynamicWeights.class;
            case "Arguments" -> BackendConformanceSuite.Arguments.class;
            case "BatchedDecode" -> BackendConformanceSuite.BatchedDecode.class;
            default -> throw new IllegalArgumentException("no kit group " + parts[0]);
        };
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectNestedMethod(List.of(EmulatedCudaKit.class), group, parts[1]))
                .build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        TestExecutionSummary s = listener.getSummary();
        String failures = s.getFailures().stream()
                .map(f -> f.getTestIdentifier().getDisplayName() + ": " + f.getException())
                .collect(Collectors.joining("\n"));
        assertThat(s.getTestsFoundCount()).as(entry + " found in the kit").isEqualTo(1);
        assertThat(s.getTestsFailedCount()).as(entry + " on the emulated cuda backend:\n" + failures).isZero();
        assertThat(s.getTestsSucceededCount()).as(entry + " passed (not skipped or aborted)").isEqualTo(1);
    }
}
