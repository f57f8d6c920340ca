package io.dcformer4j.backend.cuda.launch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LaunchPlannerTest {

    private static int intArg(Launch l, String name) {
        return ((KernelArg.I32) l.arg(name)).value();
    }

    private static long ptrArg(Launch l, String name) {
        return ((KernelArg.Ptr) l.arg(name)).address();
    }

    @ParameterizedTest
    @CsvSource({"1,1,1", "1,13,7", "7,50257,2560", "3,9,8", "1,6912,2560"})
    void gemvCoversEveryOutputRowOnceWithOneWarpPerRow(int rows, int out, int in) {
        for (DType w : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            Launch l = LaunchPlanner.linear(w, 0x1000, 0x2000, 0, 0, 0x3000, rows, out, in);
            assertThat(l.kernel().name()).startsWith("gemv_");
            long warps = (long) l.grid().x() * l.block().x() / 32;
            assertThat(warps).isGreaterThanOrEqualTo(out).isLessThan(out + LaunchPlanner.WARPS_PER_BLOCK);
            assertThat(l.grid().y()).isEqualTo(rows);
            assertThat(l.block().x() % 32).isZero();
            assertThat(intArg(l, "rows")).isEqualTo(out);
            assertThat(intArg(l, "cols")).isEqualTo(in);
            assertThat(ptrArg(l, "w")).isEqualTo(0x2000);
            assertThat(ptrArg(l, "x")).isEqualTo(0x1000);
            assertThat(ptrArg(l, "y")).isEqualTo(0x3000);
        }
    }

    @ParameterizedTest
    @CsvSource({"8,1,1", "9,13,7", "65,64,63", "2048,7680,2560", "100,50257,2560"})
    void gemmTilesCoverTheOutputWithPartialEdgeTiles(int rows, int out, int in) {
        Launch bf = LaunchPlanner.linear(DType.BF16, 1, 2, 3, 1, 4, rows, out, in);
        assertThat(bf.kernel()).isEqualTo(Kernels.GEMM_TC_BF16);
        assertThat(bf.block().x()).isEqualTo(128);
        Launch f16 = LaunchPlanner.linear(DType.F16, 1, 2, 3, 2, 4, rows, out, in);
        assertThat(f16.kernel()).isEqualTo(Kernels.GEMM_TC_F16);
        Launch f32 = LaunchPlanner.linear(DType.F32, 1, 2, 0, 0, 4, rows, out, in);
        assertThat(f32.kernel()).isEqualTo(Kernels.GEMM_F32);
        assertThat(f32.block().x()).isEqualTo(256);
        for (Launch l : List.of(bf, f16, f32)) {
            assertThat((long) l.grid().x() * 64).isGreaterThanOrEqualTo(out).isLessThan(out + 64);
            assertThat((long) l.grid().y() * 64).isGreaterThanOrEqualTo(rows).isLessThan(rows + 64);
            assertThat(intArg(l, "M")).isEqualTo(rows);
            assertThat(intArg(l, "N")).isEqualTo(out);
            assertThat(intArg(l, "K")).isEqualTo(in);
        }
        assertThat(intArg(bf, "biasType")).isEqualTo(1);
        assertThat(ptrArg(bf, "bias")).isEqualTo(3);
    }

    @Test
    void rowKernelsUseOneWarpPerRowOrGroup() {
        Launch rms = LaunchPlanner.rmsNorm(1, 2, 1, 3, 33, 80, 1e-6f);
        assertThat((long) rms.grid().x() * rms.block().x() / 32).isGreaterThanOrEqualTo(33).isLessThan(33 + 8);
        assertThat(intArg(rms, "G")).isEqualTo(80);
        assertThat(rms.args().get(6)).isEqualTo(KernelArg.f32(1e-6f));
        Launch ln = LaunchPlanner.layerNorm(1, 2, 0, 0, 0, 3, 1, 2560, 1e-5f);
        assertThat(ln.grid().x()).isEqualTo(1);
        Launch sm = LaunchPlanner.softmax(1, 2, 17, 5);
        assertThat(sm.grid().x()).isEqualTo(3);
    }

    @ParameterizedTest
    @CsvSource({"1,1,2,2", "3,5,7,0", "40,4,16,16", "2,32,128,32", "1,32,80,80"})
    void ropeHasOneThreadPerRotatedPairOrPassThroughComponent(int t, int h, int d, int dr) {
        Launch l = LaunchPlanner.rope(1, 2, 3, t, h, d, dr, 5);
        long items = (long) t * h * (d - dr / 2);
        assertThat((long) l.grid().x() * l.block().x()).isGreaterThanOrEqualTo(items).isLessThan(items + 256);
        assertThat(intArg(l, "startPos")).isEqualTo(5);
        assertThat(intArg(l, "Dr")).isEqualTo(dr);
    }

    @Test
    void elementwiseKernelsCoverAwkwardCounts() {
        for (long n : new long[] {1, 255, 256, 257, 6912 * 3}) {
            for (Launch l : List.of(LaunchPlanner.add(1, 2, 3, n), LaunchPlanner.gelu(1, 2, n),
                    LaunchPlanner.swiglu(1, 2, 3, n), LaunchPlanner.convert(1, 1, 2, 0, n))) {
                assertThat((long) l.grid().x() * l.block().x()).isGreaterThanOrEqualTo(n).isLessThan(n + 256);
                assertThat(intArg(l, "n")).isEqualTo(n);
            }
        }
        assertThatThrownBy(() -> LaunchPlanner.add(1, 2, 3, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> LaunchPlanner.add(1, 2, 3, 1L << 33)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("add");
    }

    @Test
    void mgateUsesOneBlockPerRowAndTheGateLogitsInSharedMemory() {
        Launch l = LaunchPlanner.mgate(1, 2, 3, 7, 5632, 44);
        assertThat(l.grid().x()).isEqualTo(7);
        assertThat(l.sharedBytes()).isEqualTo(44 * 4);
    }

    @Test
    void embeddingCoversEveryOutputElement() {
        Launch l = LaunchPlanner.embedding(1, 1, 2, 3, 3, 97);
        assertThat((long) l.grid().x() * l.block().x()).isGreaterThanOrEqualTo(3 * 97);
        assertThat(intArg(l, "tableType")).isEqualTo(1);
    }

    @Test
    void dynamicWeightsLaunchesCoverColumnsAndSlotsPerToken() {
        int t = 5;
        int e = 64;
        int k = 16;
        int n = 4;
        int rank = 2;
        List<Launch> ls = LaunchPlanner.dynamicWeights(1, 2, 0, 3, 1, 4, 2, 5, 6, t, e, k, n, rank);
        Launch hidden = ls.get(0);
        assertThat(hidden.kernel()).isEqualTo(Kernels.DW_HIDDEN);
        assertThat((long) hidden.grid().x() * 32).isGreaterThanOrEqualTo(4L * k + 4L * n);
        assertThat(hidden.grid().y()).isEqualTo(t);
        assertThat(hidden.block()).isEqualTo(new Dim3(32, 8, 1));
        Launch w = ls.get(1);
        assertThat(w.grid()).isEqualTo(Dim3.of(4, t));
        assertThat(w.sharedBytes()).isEqualTo(4 * (2 * rank * n + rank));
        assertThat(w.block().x() % 32).isZero();
        assertThat(LaunchPlanner.dynamicHiddenFloats(t, k, n)).isEqualTo(5L * (64 + 16));
    }

    @Test
    void dynamicWeightsFromProjectionActivatesEveryElementOnceThenReusesTheFactorsLaunch() {
        int t = 3;
        int k = 16;
        int n = 5;
        int rank = 2;
        List<Launch> ls = LaunchPlanner.dynamicWeightsFromProjection(0x1000, 0x2000, 1, 0x3000, 0x4000, t, k, n, rank);
        assertThat(ls).extracting(Launch::kernel).containsExactly(Kernels.DW_ACTIVATE, Kernels.DW_WEIGHTS);
        Launch activate = ls.get(0);
        long items = LaunchPlanner.dynamicHiddenFloats(t, k, n);
        assertThat(items).isEqualTo(3L * (64 + 20));
        long threads = (long) activate.grid().x() * activate.block().x();
        assertThat(threads).isGreaterThanOrEqualTo(items).isLessThan(items + activate.block().x());
        assertThat(activate.grid().y()).isEqualTo(1);
        assertThat(activate.block().x() % 32).isZero();
        assertThat(activate.sharedBytes()).isZero();
        assertThat(ptrArg(activate, "proj")).isEqualTo(0x1000);
        assertThat(ptrArg(activate, "hid")).isEqualTo(0x3000);
        assertThat(intArg(activate, "T")).isEqualTo(t);
        assertThat(intArg(activate, "K4")).isEqualTo(4 * k);
        assertThat(intArg(activate, "N4")).isEqualTo(4 * n);
        // the factors launch is dynamicWeights' own, reading the same hidden scratch
        Launch w = ls.get(1);
        Launch same = LaunchPlanner.dynamicWeights(0x5000, 0x6000, 0, 0x7000, 0, 0x2000, 1, 0x3000, 0x4000, t, 40, k, n,
                rank).get(1);
        assertThat(w).isEqualTo(same);
        assertThat(w.grid()).isEqualTo(Dim3.of(4, t));
        assertThat(w.sharedBytes()).isEqualTo(4 * (2 * rank * n + rank));
        assertThat(ptrArg(w, "hid")).isEqualTo(0x3000);
        assertThat(ptrArg(w, "qkw")).isEqualTo(0x2000);
        assertThat(intArg(w, "qkwType")).isEqualTo(1);
        assertThat(ptrArg(w, "out")).isEqualTo(0x4000);
        assertThat(intArg(w, "K")).isEqualTo(k);
        assertThat(intArg(w, "N")).isEqualTo(n);
        assertThat(intArg(w, "I")).isEqualTo(rank);
        assertThatThrownBy(() -> LaunchPlanner.dynamicWeightsFromProjection(1, 2, 0, 3, 4, 0, k, n, rank))
                .as("an empty projection is the caller's to skip").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void launchRejectsArgumentsThatDoNotMatchTheSignature() {
        assertThatThrownBy(() -> new Launch(Kernels.ADD, Dim3.of(1), Dim3.of(32), 0,
                List.of(KernelArg.ptr(1), KernelArg.ptr(2), KernelArg.ptr(3))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("takes 4 arguments, got 3");
        assertThatThrownBy(() -> new Launch(Kernels.ADD, Dim3.of(1), Dim3.of(32), 0,
                List.of(KernelArg.ptr(1), KernelArg.ptr(2), KernelArg.ptr(3), KernelArg.f32(4))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("argument 3 (n) must be I32");
        assertThatThrownBy(() -> new Launch(Kernels.ADD, Dim3.of(1), Dim3.of(2048), 0,
                List.of(KernelArg.ptr(1), KernelArg.ptr(2), KernelArg.ptr(3), KernelArg.i32(4))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceeds 1024");
        assertThatThrownBy(() -> Dim3.of(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void kvAppendWritesOnlyTheLastCapacityPositions() {
        var b = new LaunchPlanner.AttentionBuffers(1, 2, 3, 4, 5, 6, 7, 0, 0, 8);
        var s = new LaunchPlanner.AttentionShape(40, 0, 8, 4, 16, 2, 0, 8, 0);
        Launch l = LaunchPlanner.kvAppend(b, s, true);
        long items = 8L * 4 * 16 + 2L * 8 * 5 * 4;
        assertThat((long) l.grid().x() * l.block().x()).isGreaterThanOrEqualTo(items).isLessThan(items + 256);
        assertThat(intArg(l, "keySide")).isEqualTo(1);
        Launch plain = LaunchPlanner.kvAppend(b, new LaunchPlanner.AttentionShape(3, 5, 64, 4, 16, 0, 2, 0, 0), false);
        assertThat((long) plain.grid().x() * plain.block().x()).isGreaterThanOrEqualTo(3L * 64);
        assertThat(intArg(plain, "keySide")).isZero();
    }

    @Test
    void attentionLaunchesCarryTheScaleWindowAndTiling() {
        var b = new LaunchPlanner.AttentionBuffers(1, 2, 3, 4, 5, 6, 7, 0, 0, 8);
        var s = new LaunchPlanner.AttentionShape(40, 0, 64, 4, 16, 2, 0, 8, 0);
        AttentionTiling.Prefill tiling = AttentionTiling.prefill(40, 4, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        Launch l = LaunchPlanner.attentionPrefill(b, s, tiling);
        assertThat(l.arg("scale")).isEqualTo(KernelArg.f32(0.25f));
        assertThat(intArg(l, "window")).isEqualTo(8);
        assertThat(intArg(l, "Bt") * l.grid().x()).isGreaterThanOrEqualTo(40);
        assertThat(l.sharedBytes()).isEqualTo(tiling.sharedBytes());
        AttentionTiling.Decode dt = AttentionTiling.decode(300, 4, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        List<Launch> d = LaunchPlanner.attentionDecode(b, new LaunchPlanner.AttentionShape(1, 299, 512, 4, 16, 2, 0, 0, 0),
                dt, new LaunchPlanner.DecodeScratch(11, 12, 13, 14));
        assertThat(d).extracting(Launch::kernel).containsExactly(Kernels.ATTN_DECODE_LOGITS, Kernels.ATTN_DECODE_LSE,
                Kernels.ATTN_DECODE_PV, Kernels.ATTN_DECODE_REDUCE);
        assertThat(d.get(0).grid().x()).isEqualTo(dt.splits());
        assertThat(intArg(d.get(1), "nsplit")).isEqualTo(dt.splits());
        assertThat(ptrArg(d.get(2), "lse")).isEqualTo(13);
        assertThat(intArg(d.get(3), "ND")).isEqualTo(64);
        assertThatThrownBy(() -> d.get(3).arg("nope")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(d.get(3).kernel().name()).hasMessageContaining("'nope'");
    }

    @Test
    void batchedDecodeLaunchesOnceForAllRowsWithEachRowsOwnTiling() {
        AttentionTiling.Decode shortRow = AttentionTiling.decode(3, 4, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        AttentionTiling.Decode longRow = AttentionTiling.decode(2000, 4, false, AttentionTiling.DEFAULT_SHARED_BUDGET);
        List<LaunchPlanner.DecodeRow> rows = List.of(new LaunchPlanner.DecodeRow(100, 200, 300, 2, 8, shortRow),
                new LaunchPlanner.DecodeRow(400, 500, 0, 1999, 4096, longRow));
        long[] table = LaunchPlanner.decodeRowTable(rows);
        assertThat(table).hasSize(2 * LaunchPlanner.DECODE_ROW_FIELDS).startsWith(100, 200, 300, 2, 8, shortRow.chunk(),
                shortRow.splits());
        assertThat(java.util.Arrays.copyOfRange(table, 7, 14)).containsExactly(400, 500, 0, 1999, 4096, longRow.chunk(),
                longRow.splits());
        LaunchPlanner.BatchLayout layout = LaunchPlanner.BatchLayout.of(rows, 4, 16);
        assertThat(layout.maxSplits()).isEqualTo(Math.max(shortRow.splits(), longRow.splits()));
        assertThat(layout.logitStride()).isEqualTo(4 * 2000);
        assertThat(layout.outputPartialStride()).isEqualTo((int) longRow.outputPartialFloats(4, 16));
        LaunchPlanner.AttentionBuffers b = new LaunchPlanner.AttentionBuffers(1, 2, 3, 4, 0, 0, 0, 0, 0, 10);
        List<Launch> plan = LaunchPlanner.attentionDecodeBatch(b, new LaunchPlanner.AttentionShape(1, 0, 0, 4, 16, 2, 0, 0, 0),
                2, 77, layout, new LaunchPlanner.DecodeScratch(11, 12, 13, 14), true);
        assertThat(plan).extracting(Launch::kernel).containsExactly(Kernels.ATTN_DECODE_LOGITS_BATCH,
                Kernels.ATTN_DECODE_LSE_BATCH, Kernels.ATTN_DECODE_PV_BATCH, Kernels.ATTN_DECODE_REDUCE_BATCH,
                Kernels.KV_APPEND_BATCH);
        assertThat(plan).allSatisfy(l -> assertThat(l.grid().y()).as(l.kernel().name()).isEqualTo(2));
        assertThat(plan).allSatisfy(l -> assertThat(ptrArg(l, "rows")).as(l.kernel().name()).isEqualTo(77));
        assertThat(plan.get(0).grid().x()).isEqualTo(layout.maxSplits());
        assertThat(plan.get(0).sharedBytes()).isEqualTo(Math.max(shortRow.sharedBytes(), longRow.sharedBytes()));
        assertThat(intArg(plan.get(0), "lbufStride")).isEqualTo(layout.logitStride());
        assertThat(intArg(plan.get(3), "opartStride")).isEqualTo(layout.outputPartialStride());
        // one position per row: N·D values and the key-side factors of slots 1 and 3
        assertThat((long) plan.get(4).grid().x() * plan.get(4).block().x()).isGreaterThanOrEqualTo(64 + 2 * 5 * 4);
    }

    @Test
    void q8WeightsTakeTheirGemvInDecodeAndTheF32GemmAfterWideningInPrefill() {
        assertThat(LaunchPlanner.linearKernel(DType.Q8_0, 1)).isEqualTo(Kernels.GEMV_Q8);
        assertThat(LaunchPlanner.linearKernel(DType.Q8_0, LaunchPlanner.GEMV_MAX_ROWS)).isEqualTo(Kernels.GEMM_F32);
        Launch gemm = LaunchPlanner.linear(DType.Q8_0, 1, 2, 0, 0, 3, 100, 70, 64);
        assertThat(gemm.block().x()).as("the F32 GEMM's 256 threads").isEqualTo(256);
        Launch widen = LaunchPlanner.dequantQ8(5, 6, 70L * 64);
        assertThat((long) widen.grid().x() * widen.block().x()).isGreaterThanOrEqualTo(70L * 64);
        assertThat(intArg(widen, "n")).isEqualTo(70 * 64);
        assertThatThrownBy(() -> LaunchPlanner.linearKernel(DType.I32, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
