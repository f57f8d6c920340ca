package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.backend.cuda.launch.KernelArg;
import io.dcformer4j.backend.cuda.launch.Launch;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The backend's host logic on a recording fake device: storage, validation, accounting, launch sequences. */
class CudaBackendHostTest {
    private final FakeDevice device = new FakeDevice();
    private final CudaBackend b = new CudaBackend(BackendOptions.defaults(), device, false);

    @AfterEach
    void close() {
        b.close();
        assertThat(device.memory).as("device memory after close").isEmpty();
    }

    private static int intArg(Launch l, String name) {
        return ((KernelArg.I32) l.arg(name)).value();
    }

    private static long ptrArg(Launch l, String name) {
        return ((KernelArg.Ptr) l.arg(name)).address();
    }

    @Test
    void anOwnerFreedWithItsBackendIsNotCalledAView() {
        CudaBackend other = new CudaBackend(BackendOptions.defaults(), new FakeDevice(), false);
        Tensor t = other.allocate(DType.F32, Shape.of(3), "owned.x");
        other.close();
        assertThat(t.isClosed()).as("closing the backend frees its tensors").isTrue();
        assertThatThrownBy(t::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("owned.x")
                .hasMessageNotContaining("views");
        assertThatThrownBy(t::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("owned.x")
                .hasMessageNotContaining("views");
    }

    @Test
    void storageRoundTripsEveryTypeThroughDeviceMemory() {
        float[] v = {1.1f, -2.5f, 3.14159f, 65504f, 1e-3f, -0f};
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            try (Tensor x = b.fromFloats(t, Shape.of(2, 3), v, "x")) {
                float[] back = x.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    assertThat(back[i]).isEqualTo(Numerics.roundTo(t, v[i]));
                }
                x.copyFrom(new float[] {6, 5, 4, 3, 2, 1});
                assertThat(x.toFloatArray()).containsExactly(6, 5, 4, 3, 2, 1);
            }
        }
        try (Tensor ids = b.fromInts(Shape.of(3), new int[] {7, -1, 1 << 30}, "ids")) {
            assertThat(ids.toIntArray()).containsExactly(7, -1, 1 << 30);
            assertThatThrownBy(() -> ids.copyFrom(new float[3])).isInstanceOf(IllegalArgumentException.class);
        }
        try (Tensor z = b.allocate(DType.BF16, Shape.of(4), "z")) {
            assertThat(z.toFloatArray()).containsOnly(0f);
            assertThatThrownBy(() -> z.copyFrom(new float[3])).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("z").hasMessageContaining("4");
        }
    }

    @Test
    void viewsAndSlicesShareStorageAtTheRightOffsets() {
        float[] v = new float[15];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        Tensor x = b.fromFloats(DType.F32, Shape.of(5, 3), v, "x");
        {
            Tensor rows = b.slice(x, 2, 4);
            assertThat(rows.shape()).isEqualTo(Shape.of(2, 3));
            assertThat(rows.toFloatArray()).containsExactly(6, 7, 8, 9, 10, 11);
            Tensor inner = b.slice(rows, 1, 2);
            assertThat(inner.toFloatArray()).containsExactly(9, 10, 11);
            inner.copyFrom(new float[] {-1, -2, -3});
            assertThat(x.toFloatArray()[9]).isEqualTo(-1);
            Tensor flat = b.view(x, Shape.of(15));
            assertThat(flat.toFloatArray()[10]).isEqualTo(-2);
            assertThatThrownBy(() -> b.view(x, Shape.of(4, 4))).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> b.slice(x, 3, 6)).isInstanceOf(IllegalArgumentException.class);
            assertThat(b.liveTensors()).as("views are not counted").isEqualTo(1);
            x.close();
            assertThat(rows.isClosed()).isTrue();
            assertThatThrownBy(rows::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed")
                    .hasMessageContaining("the tensor it views was closed");
            assertThatThrownBy(x::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("'x'")
                    .hasMessageNotContaining("views");
        }
    }

    @Test
    void weightsAreUploadedFromHeapAndNativeSegments() {
        byte[] raw = new byte[12];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).putFloat(8f);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nat = arena.allocate(12);
            nat.copyFrom(MemorySegment.ofArray(raw));
            try (Tensor a = b.weights(DType.F32, Shape.of(3), MemorySegment.ofArray(raw), "heap");
                 Tensor c = b.weights(DType.F32, Shape.of(3), nat, "native")) {
                assertThat(a.toFloatArray()).containsExactly(1.5f, -2f, 8f);
                assertThat(c.toFloatArray()).containsExactly(1.5f, -2f, 8f);
            }
            assertThatThrownBy(() -> b.weights(DType.F32, Shape.of(4), nat, "short"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("short");
        }
    }

    @Test
    void copyIsAMemcpyForOneTypeAndAConversionKernelOtherwise() {
        try (Tensor a = b.fromFloats(DType.F32, Shape.of(2, 2), new float[] {1, 2, 3, 4}, "a");
             Tensor c = b.allocate(DType.F32, Shape.of(4), "c");
             Tensor h = b.allocate(DType.BF16, Shape.of(4), "h")) {
            b.copy(a, c);
            assertThat(c.toFloatArray()).containsExactly(1, 2, 3, 4);
            assertThat(device.launches).isEmpty();
            b.copy(a, h);
            assertThat(device.kernelNames()).containsExactly("convert");
            Launch l = device.launches.get(0);
            assertThat(intArg(l, "srcType")).isZero();
            assertThat(intArg(l, "dstType")).isEqualTo(1);
        }
    }

    @Test
    void accountingCountsTensorsAndCachesButNotViewsOrScratch() {
        Tensor x = b.allocate(DType.F32, Shape.of(8, 4), "x");
        Tensor w = b.allocate(DType.BF16, Shape.of(3, 4), "w");
        KvCache cache = b.allocateKvCache(new KvCacheSpec(16, 2, 4, 2, true));
        assertThat(b.liveTensors()).isEqualTo(3);
        assertThat(b.liveBytes()).isEqualTo(8 * 4 * 4 + 3 * 4 * 2 + 2L * 16 * 8 * 4 + 16L * 2 * 5 * 2 * 4);
        Tensor table = b.fromFloats(DType.F32, Shape.of(5, 4), new float[20], "table");
        b.embedding(table, new int[] {4, 0, 3}, b.slice(x, 0, 3));
        assertThat(b.liveTensors()).isEqualTo(4);
        table.close();
        cache.close();
        assertThatThrownBy(cache::close).isInstanceOf(IllegalStateException.class);
        w.close();
        x.close();
        assertThat(b.liveTensors()).isZero();
        assertThat(b.liveBytes()).isZero();
    }

    @Test
    void embeddingUploadsTheIdsAndRejectsOutOfRangeOnes() {
        try (Tensor table = b.fromFloats(DType.BF16, Shape.of(5, 4), new float[20], "table");
             Tensor out = b.allocate(DType.F32, Shape.of(2, 4), "out")) {
            assertThatThrownBy(() -> b.embedding(table, new int[] {1, 5}, out))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 5 at index 1");
            b.embedding(table, new int[] {4, 2}, out);
            Launch l = device.launches.get(0);
            byte[] ids = device.read(ptrArg(l, "tokens"), 8);
            assertThat(HostCodec.decodeInts(ids)).containsExactly(4, 2);
            assertThat(intArg(l, "tableType")).isEqualTo(1);
            assertThat(intArg(l, "E")).isEqualTo(4);
        }
    }

    @Test
    void linearPicksGemvForFewRowsAndTensorCoresForManyAndValidatesShapes() {
        try (Tensor w = b.allocate(DType.BF16, Shape.of(6, 16), "w");
             Tensor bias = b.allocate(DType.F16, Shape.of(6), "bias");
             Tensor x1 = b.allocate(DType.F32, Shape.of(1, 16), "x1");
             Tensor y1 = b.allocate(DType.F32, Shape.of(1, 6), "y1");
             Tensor x9 = b.allocate(DType.F32, Shape.of(9, 16), "x9");
             Tensor y9 = b.allocate(DType.F32, Shape.of(9, 6), "y9")) {
            b.linear(x1, w, bias, y1);
            b.linear(x9, w, null, y9);
            assertThat(device.kernelNames()).containsExactly("gemv_bf16", "gemm_tc_bf16");
            Launch gemv = device.launches.get(0);
            assertThat(ptrArg(gemv, "bias")).isEqualTo(((CudaTensor) bias).address());
            assertThat(intArg(gemv, "biasType")).isEqualTo(2);
            assertThat(ptrArg(device.launches.get(1), "bias")).isZero();
            assertThatThrownBy(() -> b.linear(x9, w, null, y1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("y1").hasMessageContaining("[9, 6]");
            assertThatThrownBy(() -> b.linear(x1, w, null, x1)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> b.linear(y1, w, null, y1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("x");
        }
    }

    @Test
    void tensorsOfAnotherBackendAreRefused() {
        CudaBackend other = new CudaBackend(BackendOptions.defaults(), new FakeDevice(), false);
        try (Tensor mine = b.allocate(DType.F32, Shape.of(4), "mine");
             Tensor theirs = other.allocate(DType.F32, Shape.of(4), "theirs")) {
            assertThatThrownBy(() -> b.add(mine, theirs, mine)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("theirs");
        } finally {
            other.close();
        }
    }

    @Test
    void ropeUploadsTheInverseFrequenciesOnce() {
        RopeSpec spec = new RopeSpec(8, 6, 10000);
        try (Tensor x = b.allocate(DType.F32, Shape.of(3, 16), "x")) {
            b.rope(x, 5, spec, x);
            b.rope(x, 8, spec, x);
            Launch l = device.launches.get(1);
            assertThat(ptrArg(l, "invFreq")).isEqualTo(ptrArg(device.launches.get(0), "invFreq"));
            float[] inv = HostCodec.decode(DType.F32, device.read(ptrArg(l, "invFreq"), 12));
            assertThat(inv).containsExactly(spec.invFreq(0), spec.invFreq(1), spec.invFreq(2));
            assertThat(intArg(l, "startPos")).isEqualTo(8);
            assertThat(intArg(l, "H")).isEqualTo(2);
            assertThatThrownBy(() -> b.rope(x, 0, new RopeSpec(5, 4, 10000), x)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    private Tensor f32(int rows, int cols, String label) {
        return b.allocate(DType.F32, Shape.of(rows, cols), label);
    }

    @Test
    void attentionPrefillThenDecodeLaunchTheFusedKernelsAndAppendAfterAttending() {
        int n = 2;
        int d = 4;
        int rank = 2;
        AttentionSpec spec = new AttentionSpec(AttentionMode.DCMHA, n, d, rank, 3, true, null, null);
        try (Tensor q = f32(5, n * d, "q"); Tensor k = f32(5, n * d, "k"); Tensor v = f32(5, n * d, "v");
             Tensor o = f32(5, n * d, "o");
             Tensor dyn = b.allocate(DType.F32, Shape.of(5, 4, 2 * rank + 1, n), "dyn");
             KvCache cache = b.allocateKvCache(new KvCacheSpec(4, n, d, rank, true))) {
            b.attentionPrefill(q, k, v, dyn, cache, spec, o);
            assertThat(device.kernelNames()).containsExactly("attn_prefill", "kv_append");
            Launch pre = device.launches.get(0);
            assertThat(intArg(pre, "window")).as("R24 flag widens a multi-query call to W+1 keys").isEqualTo(4);
            assertThat(intArg(pre, "L")).isZero();
            assertThat(intArg(pre, "T")).isEqualTo(5);
            assertThat(intArg(pre, "mode")).isZero();
            assertThat(ptrArg(pre, "out")).isEqualTo(((CudaTensor) o).address());
            assertThat(intArg(device.launches.get(1), "keySide")).isEqualTo(1);
            assertThat(cache.length()).isEqualTo(5);

            device.launches.clear();
            Tensor q1 = b.slice(q, 0, 1);
            Tensor k1 = b.slice(k, 0, 1);
            Tensor v1 = b.slice(v, 0, 1);
            Tensor o1 = b.slice(o, 4, 5);
            Tensor d1 = b.slice(dyn, 0, 1);
            b.attentionDecode(q1, k1, v1, d1, cache, spec, o1);
            assertThat(device.kernelNames()).containsExactly("attn_decode_logits", "attn_decode_lse", "attn_decode_pv",
                    "attn_decode_reduce", "kv_append");
            assertThat(intArg(device.launches.get(0), "window")).as("decode sees W keys").isEqualTo(3);
            assertThat(intArg(device.launches.get(0), "L")).isEqualTo(5);
            assertThat(ptrArg(device.launches.get(3), "out")).isEqualTo(((CudaTensor) o1).address());
            assertThat(cache.length()).isEqualTo(6);
            assertThatThrownBy(() -> b.attentionDecode(q, k, v, dyn, cache, spec, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one token");
            cache.reset();
            assertThat(cache.length()).isZero();
        }
    }

    @Test
    void attentionValidatesModesCachesAndCapacities() {
        int n = 2;
        int d = 4;
        try (Tensor q = f32(3, n * d, "q"); Tensor o = f32(3, n * d, "o");
             Tensor dyn = b.allocate(DType.F32, Shape.of(3, 4, 5, n), "dyn");
             KvCache small = b.allocateKvCache(new KvCacheSpec(4, n, d, 2, true));
             KvCache noSide = b.allocateKvCache(new KvCacheSpec(8, n, d, 2, false))) {
            AttentionSpec global = AttentionSpec.of(AttentionMode.DCMHA, n, d, 2, 0);
            b.attentionPrefill(q, q, q, dyn, small, global, o);
            assertThatThrownBy(() -> b.attentionPrefill(q, q, q, dyn, small, global, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity 4");
            assertThatThrownBy(() -> b.attentionPrefill(q, q, q, dyn, noSide, global, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key-side");
            assertThatThrownBy(() -> b.attentionPrefill(q, q, q, null, noSide, global, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dyn");
            AttentionSpec quirk = new AttentionSpec(AttentionMode.QUERY_WISE, n, d, 2, 8, true, null, null);
            assertThatThrownBy(() -> b.attentionPrefill(q, q, q, dyn, noSide, quirk, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 9");
            AttentionSpec plain = AttentionSpec.of(AttentionMode.PLAIN_MHA, n, d, 0, 0);
            device.launches.clear();
            b.attentionPrefill(q, q, q, null, noSide, plain, o);
            assertThat(intArg(device.launches.get(0), "mode")).isEqualTo(2);
            assertThat(ptrArg(device.launches.get(0), "dyn")).isZero();
            assertThat(intArg(device.launches.get(1), "keySide")).isZero();
            assertThatThrownBy(() -> b.attentionPrefill(q, q, q, null, noSide, plain, q))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
        }
    }

    @Test
    void theUnfusedBaselineMaterialisesTheScoresAndSkipsComposeForPlainMha() {
        int n = 2;
        int d = 4;
        try (Tensor q = f32(3, n * d, "q"); Tensor o = f32(3, n * d, "o");
             Tensor dyn = b.allocate(DType.F32, Shape.of(3, 4, 5, n), "dyn")) {
            b.attentionUnfused(q, q, q, dyn, AttentionSpec.of(AttentionMode.DCMHA, n, d, 2, 2), o);
            assertThat(device.kernelNames()).containsExactly("unfused_logits", "unfused_compose", "unfused_softmax",
                    "unfused_compose", "unfused_pv");
            assertThat(intArg(device.launches.get(1), "post")).isZero();
            assertThat(intArg(device.launches.get(3), "post")).isEqualTo(1);
            assertThat(intArg(device.launches.get(0), "window")).isEqualTo(2);
            device.launches.clear();
            b.attentionUnfused(q, q, q, null, AttentionSpec.of(AttentionMode.PLAIN_MHA, n, d, 0, 0), o);
            assertThat(device.kernelNames()).containsExactly("unfused_logits", "unfused_softmax", "unfused_pv");
        }
    }

    @Test
    void dynamicWeightsFromProjectionActivatesIntoTheHiddenScratchOfDynamicWeights() {
        int e = 8;
        int n = 2;
        int rank = 1;
        int k = 4;
        int cols = 4 * k + 4 * n;
        CudaBackend other = new CudaBackend(BackendOptions.defaults(), new FakeDevice(), false);
        try (Tensor a = f32(3, e, "a");
             Tensor dw1 = b.allocate(DType.BF16, Shape.of(e, 1, 4, k), "dw1");
             Tensor qkw = b.allocate(DType.F16, Shape.of(1, 4, k, 2 * rank, n), "qkw");
             Tensor dd = b.allocate(DType.BF16, Shape.of(e, 1, 4 * n), "dd");
             Tensor projected = f32(3, cols, "projected");
             Tensor dyn = b.allocate(DType.F32, Shape.of(3, 4, 2 * rank + 1, n), "dyn");
             Tensor none = f32(0, cols, "none");
             Tensor noDyn = b.allocate(DType.F32, Shape.of(0, 4, 2 * rank + 1, n), "noDyn");
             Tensor theirs = other.allocate(DType.F32, Shape.of(3, cols), "theirs")) {
            DynamicWeightParams params = new DynamicWeightParams(dw1, qkw, dd, n, rank);
            b.dynamicWeights(a, params, dyn);
            long hidden = ptrArg(device.launches.get(0), "hid");
            device.launches.clear();

            b.dynamicWeightsFromProjection(projected, params, dyn);
            assertThat(device.kernelNames()).containsExactly("dw_activate", "dw_weights");
            Launch activate = device.launches.get(0);
            assertThat(ptrArg(activate, "proj")).isEqualTo(((CudaTensor) projected).address());
            assertThat(ptrArg(activate, "hid")).as("the scratch dynamicWeights uses").isEqualTo(hidden);
            assertThat(intArg(activate, "T")).isEqualTo(3);
            assertThat(intArg(activate, "K4")).isEqualTo(4 * k);
            assertThat(intArg(activate, "N4")).isEqualTo(4 * n);
            Launch weights = device.launches.get(1);
            assertThat(ptrArg(weights, "hid")).isEqualTo(hidden);
            assertThat(ptrArg(weights, "qkw")).isEqualTo(((CudaTensor) qkw).address());
            assertThat(intArg(weights, "qkwType")).isEqualTo(2);
            assertThat(ptrArg(weights, "out")).isEqualTo(((CudaTensor) dyn).address());

            device.launches.clear();
            b.dynamicWeightsFromProjection(none, params, noDyn);
            assertThat(device.launches).as("T = 0 launches nothing").isEmpty();
            assertThatThrownBy(() -> b.dynamicWeightsFromProjection(a, params, dyn))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a'").hasMessageContaining("24");
            assertThatThrownBy(() -> b.dynamicWeightsFromProjection(projected, params, noDyn))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("noDyn");
            assertThatThrownBy(() -> b.dynamicWeightsFromProjection(theirs, params, dyn))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("theirs");
            assertThat(device.launches).as("refused calls launch nothing").isEmpty();
        } finally {
            other.close();
        }
    }

    @Test
    void closingTheBackendFreesTensorsLeftOpen() {
        Tensor x = b.allocate(DType.F32, Shape.of(4), "x");
        b.close();
        assertThat(x.isClosed()).isTrue();
        assertThatThrownBy(() -> b.allocate(DType.F32, Shape.of(1), "late")).isInstanceOf(IllegalStateException.class);
    }
}
