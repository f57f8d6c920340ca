package io.dcformer4j.model;

import static io.dcformer4j.model.TestData.maxAbs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Binding checkpoints: name forms of spec §5.3, ignored entries, dtypes, and errors naming the tensor. */
class ModelLoadTest {
    private static final ModelConfig FORMER = ModelConfig.parse("{\"model_type\": \"dcformer\", \"vocab_size\": 40, "
            + "\"dim\": 32, \"n_head\": 4, \"n_layer\": 2, \"window_size\": 3, \"use_qk_norm\": true, "
            + "\"intermediate_size\": 48, \"mgate\": true, \"mgate_dim\": 2, \"block_size\": 32}");
    private static final ModelConfig PYTHIA = ModelConfig.parse("{\"model_type\": \"dcpythia\", \"vocab_size\": 40, "
            + "\"dim\": 32, \"n_head\": 4, \"n_layer\": 2, \"window_size\": 3, \"use_qk_norm\": true, "
            + "\"rotary_pct\": 0.5, \"intermediate_size\": 48, \"block_size\": 32}");
    private static final int[] TOKENS = {1, 5, 9, 2, 33, 7, 7, 0, 39, 12};

    private static Backend backend;

    @BeforeAll
    static void open() {
        backend = Backends.open("cpu");
    }

    @AfterAll
    static void close() {
        backend.close();
    }

    static float[] floats(WeightSource src, String name) {
        TensorInfo info = src.tensors().get(name);
        MemorySegment seg = src.data(name);
        int n = Math.toIntExact(info.shape().numel());
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = switch (info.dtype()) {
                case F32 -> seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
                case BF16 -> Numerics.bf16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
                case F16 -> Numerics.f16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
                case I32 -> throw new IllegalArgumentException(name);
                case Q8_0 -> io.dcformer4j.api.Q8_0Format.get(seg, 0, i);
            };
        }
        return v;
    }

    /** A copy of {@code src} as F32 without the tensors {@code drop} accepts, plus what {@code extra} adds. */
    static MemoryWeightSource rebuild(WeightSource src, Predicate<String> drop,
                                      BiConsumer<WeightSource, MemoryWeightSource.Builder> extra) {
        MemoryWeightSource.Builder b = MemoryWeightSource.builder();
        for (Map.Entry<String, TensorInfo> e : src.tensors().entrySet()) {
            if (!drop.test(e.getKey())) {
                b.put(e.getKey(), DType.F32, e.getValue().shape(), floats(src, e.getKey()));
            }
        }
        extra.accept(src, b);
        return b.build();
    }

    private static float[] run(ModelConfig c, WeightSource w) {
        try (DCFormerModel m = DCFormerModel.create(c, w, backend); Session s = m.newSession()) {
            return TestData.flatten(s.prefill(TOKENS));
        }
    }

    @Test
    void missingTensorIsNamedWithItsExpectedShape() {
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.F32, 1);
             MemoryWeightSource broken = rebuild(w, n -> n.equals("layers.1.attention.wo.weight"), (s, b) -> { })) {
            assertThatThrownBy(() -> DCFormerModel.create(FORMER, broken, backend))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("layers.1.attention.wo.weight").hasMessageContaining("[32, 32]");
        }
    }

    @Test
    void wrongShapeIsNamedWithBothShapes() {
        String name = "layers.0.feed_forward.w1.weight";
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.F32, 1);
             MemoryWeightSource broken = rebuild(w, name::equals,
                     (s, b) -> b.put(name, DType.F32, Shape.of(47, 32), new float[47 * 32]))) {
            assertThatThrownBy(() -> DCFormerModel.create(FORMER, broken, backend))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(name).hasMessageContaining("[47, 32]").hasMessageContaining("expected [48, 32]");
        }
    }

    @Test
    void qkwWithWrongHeadCountIsRejected() {
        String name = "layers.0.attention.dyn_w_proj.qkw";
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.F32, 1);
             MemoryWeightSource broken = rebuild(w, name::equals,
                     (s, b) -> b.put(name, DType.F32, Shape.of(1, 4, 16, 4, 2), new float[4 * 16 * 4 * 2]))) {
            assertThatThrownBy(() -> DCFormerModel.create(FORMER, broken, backend))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(name)
                    .hasMessageContaining("[1, 4, 16, 4, 2]");
        }
    }

    @Test
    void separateQkvProjectionsEqualTheFusedOne() {
        for (ModelConfig c : new ModelConfig[] {FORMER, PYTHIA}) {
            try (MemoryWeightSource w = RandomWeights.generate(c, DType.F32, 2);
                 MemoryWeightSource split = rebuild(w, n -> n.contains("wqkv"), ModelLoadTest::splitQkv)) {
                assertThat(maxAbs(run(c, split), run(c, w))).as(c.family().name()).isZero();
            }
        }
    }

    private static void splitQkv(WeightSource src, MemoryWeightSource.Builder b) {
        for (String name : src.tensors().keySet()) {
            if (!name.contains("wqkv")) {
                continue;
            }
            float[] v = floats(src, name);
            int third = v.length / 3;
            boolean bias = name.endsWith("bias");
            int e = bias ? third : (int) Math.sqrt(third);
            Shape shape = bias ? Shape.of(e) : Shape.of(e, e);
            String[] parts = {"wq", "wk", "wv"};
            for (int i = 0; i < 3; i++) {
                float[] part = java.util.Arrays.copyOfRange(v, i * third, (i + 1) * third);
                b.put(name.replace("wqkv", parts[i]), DType.F32, shape, part);
            }
        }
    }

    @Test
    void derivedAndCacheEntriesAreIgnored() {
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.F32, 3);
             MemoryWeightSource extra = rebuild(w, n -> false, (s, b) -> {
                 b.put("layers.0.attention.dyn_w_proj.dw_m", DType.F32, Shape.of(32, 80), new float[32 * 80]);
                 b.put("layers.0.attention.dyn_w_proj.qkw_m", DType.F32, Shape.of(4, 16, 16), new float[4 * 16 * 16]);
                 b.put("layers.0.attention.dyn_w_proj.pre_proj.w", DType.F32, Shape.of(1, 4, 4), new float[16]);
                 b.put("layers.0.attention.dyn_w_proj.post_proj.w", DType.F32, Shape.of(1, 4, 4), new float[16]);
                 b.put("layers.0.attention.kv_cache.k_cache", DType.F32, Shape.of(1, 4, 3, 8), new float[96]);
             })) {
            assertThat(maxAbs(run(FORMER, extra), run(FORMER, w))).isZero();
        }
    }

    @Test
    void squeezedUnitAxesAreAccepted() {
        String dd = "layers.1.attention.dyn_w_proj.dd";
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.F32, 4);
             MemoryWeightSource squeezed = rebuild(w, dd::equals,
                     (s, b) -> b.put(dd, DType.F32, Shape.of(32, 16), floats(s, dd)))) {
            assertThat(maxAbs(run(FORMER, squeezed), run(FORMER, w))).isZero();
        }
    }

    @Test
    void tiedEmbeddingsServeAsOutputHeadWhenItIsAbsent() {
        ModelConfig tied = ModelConfig.parse("{\"model_type\": \"dcformer\", \"vocab_size\": 40, \"dim\": 32, "
                + "\"n_head\": 4, \"n_layer\": 1, \"intermediate_size\": 48, \"tie_word_embeddings\": true}");
        try (MemoryWeightSource w = RandomWeights.generate(tied, DType.F32, 5);
             MemoryWeightSource noHead = rebuild(w, "output.weight"::equals, (s, b) -> { });
             MemoryWeightSource copied = rebuild(w, "output.weight"::equals, (s, b) -> b.put("output.weight",
                     DType.F32, Shape.of(40, 32), floats(s, "tok_embeddings.weight")))) {
            assertThat(maxAbs(run(tied, noHead), run(tied, copied))).isZero();
            ModelConfig untied = ModelConfig.parse("{\"model_type\": \"dcformer\", \"vocab_size\": 40, \"dim\": 32, "
                    + "\"n_head\": 4, \"n_layer\": 1, \"intermediate_size\": 48}");
            assertThatThrownBy(() -> DCFormerModel.create(untied, noHead, backend))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("output.weight");
        }
    }

    @Test
    void halfPrecisionWeightsComputeWithTheirWidenedValues() {
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            for (ModelConfig c : new ModelConfig[] {FORMER, PYTHIA}) {
                try (MemoryWeightSource half = RandomWeights.generate(c, dtype, 6);
                     MemoryWeightSource widened = rebuild(half, n -> false, (s, b) -> { })) {
                    float[] a = run(c, half);
                    float[] b = run(c, widened);
                    assertThat(TestData.relL2(a, b)).as("%s %s", dtype, c.family()).isLessThan(1e-5);
                }
            }
        }
    }

    @Test
    void closingTheModelReleasesItsTensors() {
        long before = backend.liveTensors();
        try (MemoryWeightSource w = RandomWeights.generate(FORMER, DType.BF16, 7)) {
            DCFormerModel m = DCFormerModel.create(FORMER, w, backend);
            Session s = m.newSession();
            s.prefill(TOKENS);
            s.decode(3);
            s.close();
            m.close();
            assertThatThrownBy(m::close).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(m::newSession).isInstanceOf(IllegalStateException.class);
        }
        assertThat(backend.liveTensors()).isEqualTo(before);
    }
}
