package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.Arena;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * The argument rules of {@link io.dcformer4j.api.OpChecks}, as every backend must apply them: bad arguments
 * are an {@link IllegalArgumentException} (a missing one too, never a NullPointerException) whose message
 * starts with the operation, names the argument by its label and gives the sizes found and expected. The
 * optional arguments (layerNorm's bias, linear's bias) work when left out.
 */
abstract class ArgumentChecks extends Checks {

    /** Asserts an IllegalArgumentException whose message starts with "op:" and contains every fragment. */
    private static AbstractThrowableAssert<?, ? extends Throwable> refused(String what, String op, ThrowingCallable call,
                                                                           String... fragments) {
        AbstractThrowableAssert<?, ? extends Throwable> a = assertThatThrownBy(call).as(what)
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(op + ":");
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
        return a;
    }

    @Test
    void fromFloatsRefusesNullValuesAndWrongCounts() {
        refused("fromFloats with null values", "fromFloats",
                () -> backend().fromFloats(DType.F32, Shape.of(2, 3), null, "vals"), "'vals'", "null");
        refused("fromFloats of 5 values into [2, 3]", "fromFloats",
                () -> backend().fromFloats(DType.F32, Shape.of(2, 3), new float[5], "vals"), "'vals'", "6", "5");
        refused("fromFloats into I32", "fromFloats",
                () -> backend().fromFloats(DType.I32, Shape.of(2), new float[2], "ids"), "'ids'", "I32");
        refused("fromInts with null values", "fromInts",
                () -> backend().fromInts(Shape.of(2), null, "ids"), "'ids'", "null");
        refused("allocate without a shape", "allocate",
                () -> backend().allocate(DType.F32, null, "noShape"), "'noShape'", "shape");
    }

    @Test
    void weightsNeedTheExactByteCountOfAFloatDtype() {
        try (Arena arena = Arena.ofShared()) {
            refused("weights BF16 [2, 3] (12 bytes) over 16 bytes", "weights",
                    () -> backend().weights(DType.BF16, Shape.of(2, 3), arena.allocate(16), "big"), "'big'", "12", "16");
            refused("weights BF16 [2, 3] over 8 bytes", "weights",
                    () -> backend().weights(DType.BF16, Shape.of(2, 3), arena.allocate(8), "small"), "'small'", "12", "8");
            refused("weights of I32", "weights",
                    () -> backend().weights(DType.I32, Shape.of(2), arena.allocate(8), "ints"), "'ints'", "I32");
            refused("weights without data", "weights",
                    () -> backend().weights(DType.F32, Shape.of(2), null, "none"), "'none'");
            Tensor exact = tck().own(backend().weights(DType.BF16, Shape.of(2, 3), arena.allocate(12), "exact"));
            assertThat(exact.shape()).isEqualTo(Shape.of(2, 3));
            exact.close();
        }
    }

    @Test
    void viewSliceAndCopyNameTheTensorAndTheSizes() {
        Tensor t = tck().zeros("src", 4, 3);
        refused("view of 12 elements as [5, 2]", "view", () -> backend().view(t, Shape.of(5, 2)), "'src'", "12", "[5, 2]");
        refused("slice rows [2, 6) of 4", "slice", () -> backend().slice(t, 2, 6), "'src'", "[2, 6)", "4 rows");
        Tensor dst = tck().zeros("dst", 5, 3);
        refused("copy of 12 elements into 15", "copy", () -> backend().copy(t, dst), "'src'", "'dst'", "12", "15");
        Tensor ids = tck().own(backend().fromInts(Shape.of(4, 3), new int[12], "ids"));
        refused("copy of I32 into F32", "copy", () -> backend().copy(ids, t), "'ids'", "'src'", "I32");
        refused("copy from null", "copy", () -> backend().copy(null, t), "src is null");
    }

    @Test
    void embeddingNamesTheBadIdAndTheTableRange() {
        Tensor table = tck().zeros("table", 5, 4);
        refused("embedding of id 5 in a 5-row table", "embedding",
                () -> backend().embedding(table, new int[] {0, 5}, tck().zeros("out", 2, 4)), "'table'", "5", "[0, 5)");
        refused("embedding into a [2, 3] out", "embedding",
                () -> backend().embedding(table, new int[] {0, 1}, tck().zeros("narrow", 2, 3)), "out", "'narrow'", "[2, 4]");
        refused("embedding with null tokens", "embedding",
                () -> backend().embedding(table, null, tck().zeros("out2", 0, 4)), "tokens", "null");
    }

    @Test
    void linearNamesTheArgumentAndTheSizes() {
        Tensor w = tck().zeros("w", 4, 5);
        Tensor y = tck().zeros("y", 2, 4);
        refused("linear x [2, 3] with w [4, 5]", "linear",
                () -> backend().linear(tck().zeros("x", 2, 3), w, null, y), "x", "'x'", "[2, 3]", "[T, 5]");
        Tensor x = tck().zeros("x", 2, 5);
        refused("linear into y [2, 3]", "linear",
                () -> backend().linear(x, w, null, tck().zeros("thin", 2, 3)), "out", "'thin'", "[2, 4]");
        refused("linear with a [3] bias", "linear",
                () -> backend().linear(x, w, tck().zeros("b", 3), y), "bias", "'b'", "3", "[4]");
        refused("linear with w of rank 3", "linear",
                () -> backend().linear(x, tck().zeros("w3", 1, 4, 5), null, y), "w", "'w3'", "[out, in]");
        refused("linear with a null x", "linear", () -> backend().linear(null, w, null, y), "x is null");
        Tensor bf16x = tck().tensor(backend(), DType.BF16, new float[10], "bx", 2, 5);
        refused("linear with a BF16 activation", "linear", () -> backend().linear(bf16x, w, null, y), "'bx'", "BF16", "F32");
    }

    @Test
    void rmsNormAndLayerNormNameTheGainAndBias() {
        Tensor x = tck().zeros("x", 2, 10);
        Tensor out = tck().zeros("out", 2, 10);
        refused("rmsNorm with a gain of 3 over 20 elements", "rmsNorm",
                () -> backend().rmsNorm(x, tck().zeros("g3", 3), 1e-6f, out), "'x'", "'g3'", "3", "20");
        refused("rmsNorm into [2, 9]", "rmsNorm",
                () -> backend().rmsNorm(x, tck().zeros("g", 10), 1e-6f, tck().zeros("o9", 2, 9)), "'o9'", "[2, 10]");
        refused("layerNorm with a bias of 9", "layerNorm",
                () -> backend().layerNorm(x, tck().zeros("g", 10), tck().zeros("b9", 9), 1e-5f, out), "bias", "'b9'", "9", "10");
        refused("layerNorm with a null gain", "layerNorm",
                () -> backend().layerNorm(x, null, null, 1e-5f, out), "gain is null");
    }

    @Test
    void layerNormWithoutBiasIsAZeroShift() {
        int rows = 3;
        int e = 17;
        float[] xs = tck().normal(rows * e, 2.0);
        float[] gs = tck().normal(e, 1.0);
        Tensor x = tck().f32(xs, "x", rows, e);
        Tensor gain = tck().f32(gs, "gain", e);
        Tensor noBias = tck().zeros("noBias", rows, e);
        Tensor zeroBias = tck().zeros("zeroBias", rows, e);
        backend().layerNorm(x, gain, null, 1e-5f, noBias);
        backend().layerNorm(x, gain, tck().zeros("zeros", e), 1e-5f, zeroBias);
        float[] a = noBias.toFloatArray();
        float[] b = zeroBias.toFloatArray();
        double[] expected = Oracle.layerNorm(xs, gs, new float[e], 1e-5);
        for (int i = 0; i < a.length; i++) {
            assertThat(a[i]).as("layerNorm without bias, element %d", i).isCloseTo(b[i], within(0f));
            assertThat((double) a[i]).as("layerNorm without bias against the oracle, element %d", i)
                    .isCloseTo(expected[i], within(1e-4 * (1 + Math.abs(expected[i]))));
        }
    }

    @Test
    void ropeNamesHeadDimAndStartPos() {
        RopeSpec spec = new RopeSpec(4, 4, 10000);
        Tensor x = tck().zeros("x", 2, 6);
        refused("rope over 6 columns with headDim 4", "rope",
                () -> backend().rope(x, 0, spec, tck().zeros("o", 2, 6)), "'x'", "6", "headDim 4");
        Tensor x8 = tck().zeros("x8", 2, 8);
        refused("rope at startPos −1", "rope", () -> backend().rope(x8, -1, spec, tck().zeros("o8", 2, 8)), "startPos", "-1");
        refused("rope without a spec", "rope", () -> backend().rope(x8, 0, null, tck().zeros("o8b", 2, 8)), "spec");
        refused("rope into [2, 4]", "rope", () -> backend().rope(x8, 0, spec, tck().zeros("o4", 2, 4)), "'o4'", "[2, 8]");
    }

    @Test
    void elementwiseOpsNeedOneShape() {
        Tensor a = tck().zeros("a", 2, 3);
        Tensor b = tck().zeros("b6", 6);
        refused("add [2, 3] + [6]", "add", () -> backend().add(a, b, tck().zeros("o", 2, 3)), "'b6'", "[6]", "[2, 3]");
        refused("swiglu [2, 3] with up [6]", "swiglu",
                () -> backend().swiglu(a, b, tck().zeros("o2", 2, 3)), "up", "'b6'", "[2, 3]");
        refused("gelu into [3, 2]", "gelu", () -> backend().gelu(a, tck().zeros("o32", 3, 2)), "'o32'", "[3, 2]", "[2, 3]");
        refused("softmax into [2, 4]", "softmax", () -> backend().softmax(a, tck().zeros("o24", 2, 4)), "'o24'", "[2, 4]");
        refused("add with a null b", "add", () -> backend().add(a, null, a), "b is null");
        refused("mgate with 4 groups over F = 6", "mgate",
                () -> backend().mgate(tck().zeros("u", 2, 6), tck().zeros("gl", 2, 4), tck().zeros("o26", 2, 6)),
                "'gl'", "[2, 4]", "6");
    }

    @Test
    void dynamicWeightsNamesTheInputWidthAndTheOutputShape() {
        int e = 6;
        int n = 2;
        int rank = 1;
        int k = 3;
        DynamicWeightParams params = new DynamicWeightParams(tck().zeros("dw1", e, 1, 4, k),
                tck().zeros("qkw", 1, 4, k, 2 * rank, n), tck().zeros("dd", e, 1, 4 * n), n, rank);
        refused("dynamicWeights of a [2, 5] input with E = 6", "dynamicWeights",
                () -> backend().dynamicWeights(tck().zeros("a", 2, 5), params, tck().zeros("dyn", 2, 4, 3, 2)),
                "'a'", "[2, 5]", "[T, 6]");
        refused("dynamicWeights into [2, 4, 3, 1]", "dynamicWeights",
                () -> backend().dynamicWeights(tck().zeros("a6", 2, e), params, tck().zeros("dyn1", 2, 4, 3, 1)),
                "out", "'dyn1'", "[2, 24]");
        refused("dynamicWeights without params", "dynamicWeights",
                () -> backend().dynamicWeights(tck().zeros("a6b", 2, e), null, tck().zeros("dyn2", 2, 4, 3, 2)), "params");
    }

    @Test
    void attentionNamesTheCacheTheWindowAndTheShapes() {
        int n = 2;
        int d = 4;
        AttentionSpec global = AttentionSpec.of(AttentionMode.DCMHA, n, d, 1, 0);
        KvCache small = tck().own(backend().allocateKvCache(new KvCacheSpec(2, n, d, 1, true)));
        Tensor q3 = tck().zeros("q", 3, n * d);
        Tensor dyn3 = tck().zeros("dyn", 3, 4, 3, n);
        refused("attentionPrefill of 3 positions into a 2-slot global cache", "attentionPrefill",
                () -> backend().attentionPrefill(q3, q3, q3, dyn3, small, global, tck().zeros("o", 3, n * d)),
                "capacity 2", "3 new positions");
        KvCache cache = tck().own(backend().allocateKvCache(new KvCacheSpec(8, n, d, 1, true)));
        refused("attentionPrefill of DCMHA without dyn", "attentionPrefill",
                () -> backend().attentionPrefill(q3, q3, q3, null, cache, global, tck().zeros("o2", 3, n * d)), "dyn", "null");
        refused("attentionPrefill with dyn of rank 2", "attentionPrefill",
                () -> backend().attentionPrefill(q3, q3, q3, tck().zeros("dyn5", 3, 4, 5, n), cache, global,
                        tck().zeros("o3", 3, n * d)), "'dyn5'", "[3, 24]");
        refused("attentionPrefill with k of 2 rows", "attentionPrefill",
                () -> backend().attentionPrefill(q3, tck().zeros("k2", 2, n * d), q3, dyn3, cache, global,
                        tck().zeros("o4", 3, n * d)), "k", "'k2'", "[3, 8]");
        refused("attentionDecode of 3 rows", "attentionDecode",
                () -> backend().attentionDecode(q3, q3, q3, dyn3, cache, global, tck().zeros("o5", 3, n * d)), "'q'", "one row");
        AttentionSpec threeHeads = AttentionSpec.of(AttentionMode.DCMHA, 3, d, 1, 0);
        Tensor q12 = tck().zeros("q12", 1, 3 * d);
        refused("attentionDecode of 3 heads with a 2-head cache", "attentionDecode",
                () -> backend().attentionDecode(q12, q12, q12, tck().zeros("dyn3h", 1, 4, 3, 3), cache, threeHeads,
                        tck().zeros("o6", 1, 3 * d)), "2 heads", "3 heads");
        AttentionSpec local = new AttentionSpec(AttentionMode.PLAIN_MHA, n, d, 0, 4, true, null, null);
        KvCache ring = tck().own(backend().allocateKvCache(new KvCacheSpec(4, n, d, 0, false)));
        Tensor q1 = tck().zeros("q1", 1, n * d);
        refused("attentionDecode of a window-4 layer with the W+1 quirk over a 4-slot ring", "attentionDecode",
                () -> backend().attentionDecode(q1, q1, q1, null, ring, local, tck().zeros("o7", 1, n * d)),
                "window 4", "5 slots", "capacity 4");
        refused("attentionDecode without a cache", "attentionDecode",
                () -> backend().attentionDecode(q1, q1, q1, null, null, local, tck().zeros("o8", 1, n * d)), "cache");
        AttentionSpec withStatic = new AttentionSpec(AttentionMode.DCMHA, n, d, 1, 0, false, tck().zeros("pre", 3, 3),
                tck().zeros("post", 3, 3));
        refused("attentionDecode with [3, 3] static weights for 2 heads", "attentionDecode",
                () -> backend().attentionDecode(q1, q1, q1, tck().zeros("dyn1", 1, 4, 3, n), cache, withStatic,
                        tck().zeros("o9", 1, n * d)), "staticPre", "'pre'", "[2, 2]");
        refused("allocateKvCache without a spec", "allocateKvCache", () -> backend().allocateKvCache(null), "spec");
        assertThat(cache.length()).as("refused calls leave the cache untouched").isZero();
    }
}
