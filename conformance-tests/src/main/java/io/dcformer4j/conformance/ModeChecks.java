package io.dcformer4j.conformance;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.DType;
import org.junit.jupiter.api.Test;

/**
 * Every attention mode (DCMHA, query-wise, plain MHA) in every path a backend may implement separately: a
 * one-token prompt straight to decode, a prefill, a chunked prefill through the cache, decodes, a decode
 * after a prefill longer than a decode split; each without static composition weights and (for the two
 * composing modes) with them stored as F32, BF16 and F16; on a global layer and on a ring. Plain MHA has no
 * compose (spec §2.4), so static weights with it are left unspecified and not tested.
 */
abstract class ModeChecks extends Checks {
    private static final int N = 4;
    private static final int D = 8;
    private static final int RANK = 2;
    /** Decode at 0, then prefill, a chunk, decodes, a chunk past 300 keys, decodes. */
    private static final int[] PLAN = {1, 1, 9, 5, 1, 1, 290, 1, 1};
    private static final DType[] STATIC = {null, DType.F32, DType.BF16, DType.F16};

    private void everyPath(AttentionMode mode) {
        int total = AttentionPlans.length(PLAN);
        for (DType staticDtype : mode == AttentionMode.PLAIN_MHA ? new DType[] {null} : STATIC) {
            for (int window : new int[] {0, 6}) {
                AttentionCase c = AttentionCase.random(tck(), mode, N, D, RANK, window, false, staticDtype, total, 1.0);
                AttentionPlans.runAndCheck(tck(), backend(), mode + (staticDtype == null ? " without static weights" : " with "
                        + staticDtype + " static weights") + ", decode at 0, prefill, chunks, decodes", c, window == 0 ? total : window,
                        PLAN, Tolerances.ATTENTION);
            }
        }
    }

    @Test
    void attentionDcmhaModeEveryPath() {
        everyPath(AttentionMode.DCMHA);
    }

    @Test
    void attentionQueryWiseModeEveryPath() {
        everyPath(AttentionMode.QUERY_WISE);
    }

    @Test
    void attentionPlainMhaModeEveryPath() {
        everyPath(AttentionMode.PLAIN_MHA);
    }

    @Test
    void attentionStaticWeightsWithR24FlagEveryDtype() {
        for (DType staticDtype : new DType[] {DType.BF16, DType.F16}) {
            AttentionCase c = AttentionCase.random(tck(), AttentionMode.DCMHA, N, D, RANK, 4, true, staticDtype, 20, 1.0);
            AttentionPlans.runAndCheck(tck(), backend(), "DCMHA, W = 4 with the R24 flag", c, 5, new int[] {9, 1, 1, 3, 1, 5},
                    Tolerances.ATTENTION);
        }
    }
}
