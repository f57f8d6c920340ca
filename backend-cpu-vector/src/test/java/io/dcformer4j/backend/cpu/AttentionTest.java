package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.dcformer4j.backend.cpu.TestData.assertClose;
import static org.assertj.core.api.Assertions.assertThat;

/** The fused attention against the unfused oracle of spec §2.1, in every mode, mask and chunking. */
class AttentionTest {
    private static final double ATOL = 2e-5;
    private static final double RTOL = 1e-4;
    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = new CpuBackendProvider().open(BackendOptions.withThreads(2));
    }

    @AfterAll
    static void close() {
        assertThat(backend.liveTensors()).as("tensors leaked by the tests").isZero();
        backend.close();
    }

    @ParameterizedTest
    @EnumSource(AttentionMode.class)
    void globalPrefillMatchesOracle(AttentionMode mode) {
        AttentionRunner r = new AttentionRunner(1, 4, 17, 2, 23);
        assertClose(mode + " global prefill", r.run(backend, mode, 0, false, 23, 23), r.oracle(mode, 0, false, 23), ATOL, RTOL);
    }

    @ParameterizedTest
    @EnumSource(AttentionMode.class)
    void localPrefillLongerThanTwoWindowsMatchesOracle(AttentionMode mode) {
        AttentionRunner r = new AttentionRunner(2, 3, 8, 2, 29);
        int w = 4;
        assertClose(mode + " local prefill T > 2W", r.run(backend, mode, w, false, w, 29), r.oracle(mode, w, false, 29), ATOL, RTOL);
    }

    @Test
    void windowOfOneKeyLeavesEachQueryItsOwnKey() {
        for (AttentionMode mode : AttentionMode.values()) {
            AttentionRunner r = new AttentionRunner(3, 2, 7, 1, 9);
            assertClose(mode + " W=1", r.run(backend, mode, 1, false, 1, 9), r.oracle(mode, 1, false, 9), ATOL, RTOL);
            assertClose(mode + " W=1 decode", r.run(backend, mode, 1, false, 1, 1), r.oracle(mode, 1, false, 1), ATOL, RTOL);
        }
    }

    @ParameterizedTest
    @EnumSource(AttentionMode.class)
    void decodeAfterPrefillEqualsOnePrefill(AttentionMode mode) {
        for (int window : new int[] {0, 5}) {
            AttentionRunner r = new AttentionRunner(4, 4, 16, 2, 20);
            int cap = window == 0 ? 20 : window;
            float[] once = r.run(backend, mode, window, false, cap, 20);
            float[] decoded = r.run(backend, mode, window, false, cap, 12, 1);
            assertClose(mode + " W=" + window + " decode after prefill vs oracle", decoded, r.oracle(mode, window, false, 12, 1),
                    ATOL, RTOL);
            double[] onceD = TestData.toDouble(once);
            assertClose(mode + " W=" + window + " decode after prefill vs one prefill", decoded, onceD, 1e-5, 1e-4);
        }
    }

    @ParameterizedTest
    @EnumSource(AttentionMode.class)
    void chunkedPrefillEqualsOnePrefill(AttentionMode mode) {
        for (int window : new int[] {0, 6}) {
            AttentionRunner r = new AttentionRunner(5, 3, 9, 2, 31);
            int cap = window == 0 ? 40 : window;
            float[] once = r.run(backend, mode, window, false, cap, 31);
            float[] chunked = r.run(backend, mode, window, false, cap, 3, 7, 1, 13);
            assertClose(mode + " W=" + window + " chunked", chunked, TestData.toDouble(once), 1e-5, 1e-4);
            assertClose(mode + " W=" + window + " chunked vs oracle", chunked, r.oracle(mode, window, false, 31), ATOL, RTOL);
        }
    }

    @Test
    void staticCompositionWeightsAddToTheIdentity() {
        for (AttentionMode mode : new AttentionMode[] {AttentionMode.DCMHA, AttentionMode.QUERY_WISE}) {
            AttentionRunner r = new AttentionRunner(6, 5, 12, 2, 17).withStatic(60);
            assertClose(mode + " static weights", r.run(backend, mode, 0, false, 17, 9, 1, 7), r.oracle(mode, 0, false, 9, 1, 7),
                    ATOL, RTOL);
        }
    }

    @Test
    void r24QuirkAdmitsOneMoreKeyOnlyInMultiTokenCalls() {
        AttentionRunner r = new AttentionRunner(7, 4, 8, 2, 21);
        int w = 4;
        float[] quirk = r.run(backend, AttentionMode.DCMHA, w, true, w + 1, 13, 1, 1, 6);
        assertClose("quirk", quirk, r.oracle(AttentionMode.DCMHA, w, true, 13, 1, 1, 6), ATOL, RTOL);
        float[] plain = r.run(backend, AttentionMode.DCMHA, w, false, w + 1, 13, 1, 1, 6);
        assertThat(quirk).as("the quirk must change prefill rows past the window").isNotEqualTo(plain);
    }

    @Test
    void awkwardHeadSizes() {
        int[][] cases = {{1, 1, 1}, {3, 63, 2}, {2, 65, 2}, {7, 3, 3}, {16, 64, 2}};
        for (int[] c : cases) {
            AttentionRunner r = new AttentionRunner(8, c[0], c[1], c[2], 11);
            for (AttentionMode mode : AttentionMode.values()) {
                assertClose(mode + " N=" + c[0] + " D=" + c[1], r.run(backend, mode, 3, false, 3, 5, 1, 5),
                        r.oracle(mode, 3, false, 5, 1, 5), ATOL, RTOL);
            }
        }
    }

    @Test
    void longGlobalSequenceInPrefillAndDecode() {
        AttentionRunner r = new AttentionRunner(9, 4, 32, 2, 200);
        assertClose("global 200", r.run(backend, AttentionMode.DCMHA, 0, false, 256, 150, 1),
                r.oracle(AttentionMode.DCMHA, 0, false, 150, 1), ATOL, RTOL);
        assertClose("local 200 W=64", r.run(backend, AttentionMode.DCMHA, 64, false, 64, 150, 1),
                r.oracle(AttentionMode.DCMHA, 64, false, 150, 1), ATOL, RTOL);
    }

    @ParameterizedTest
    @EnumSource(AttentionMode.class)
    void decodeOverManyKeysIsSplitAcrossWorkersAndStaysExact(AttentionMode mode) {
        AttentionRunner r = new AttentionRunner(10, 3, 8, 2, 620);
        assertClose(mode + " global decode over > 512 keys", r.run(backend, mode, 0, false, 620, 600, 1),
                r.oracle(mode, 0, false, 600, 1), ATOL, RTOL);
        assertClose(mode + " local W=530 decode over a wrapped ring", r.run(backend, mode, 530, false, 530, 597, 1),
                r.oracle(mode, 530, false, 597, 1), ATOL, RTOL);
    }
}
