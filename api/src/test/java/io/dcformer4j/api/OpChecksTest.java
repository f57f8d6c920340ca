package io.dcformer4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import org.junit.jupiter.api.Test;

/** The op rules on shape-only tensors (no backend): resolved sizes and the wording of each refusal. */
class OpChecksTest {

    /** A tensor that has only a label, a dtype and a shape: all the rules look at. */
    private record Fake(String label, DType dtype, Shape shape) implements Tensor {
        static Fake f32(String label, int... dims) {
            return new Fake(label, DType.F32, Shape.of(dims));
        }

        @Override
        public Backend backend() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isClosed() {
            return false;
        }

        @Override
        public float[] toFloatArray() {
            throw new UnsupportedOperationException();
        }

        @Override
        public int[] toIntArray() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyFrom(float[] values) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyFrom(int[] values) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    /** A cache that has only a spec and a length. */
    private record FakeCache(KvCacheSpec spec, int length) implements KvCache {
        @Override
        public void reset() {
        }

        @Override
        public void close() {
        }
    }

    @Test
    void linearResolvesRowsInAndOut() {
        var sizes = OpChecks.linear(Fake.f32("x", 3, 4), new Fake("w", DType.BF16, Shape.of(5, 4)), null, Fake.f32("y", 3, 5));
        assertThat(sizes).isEqualTo(new OpChecks.LinearSizes(3, 4, 5));
        assertThatThrownBy(() -> OpChecks.linear(Fake.f32("x", 3, 6), Fake.f32("w", 5, 4), null, Fake.f32("y", 3, 5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("linear: x tensor 'x' F32 [3, 6]").hasMessageContaining("[T, 4]");
        assertThatThrownBy(() -> OpChecks.linear(Fake.f32("x", 3, 4), Fake.f32("w", 5, 4), Fake.f32("b", 4), Fake.f32("y", 3, 5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias tensor 'b'").hasMessageContaining("[5]");
        assertThatThrownBy(() -> OpChecks.linear(null, Fake.f32("w", 5, 4), null, Fake.f32("y", 3, 5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("linear: x is null");
    }

    @Test
    void activationsMayHaveInnerAxesButAxisZeroIsTheRowCount() {
        var sizes = OpChecks.linear(Fake.f32("x", 2, 2, 2), Fake.f32("w", 3, 4), null, Fake.f32("y", 2, 3));
        assertThat(sizes.rows()).isEqualTo(2);
        assertThatThrownBy(() -> OpChecks.linear(Fake.f32("x", 4, 4), Fake.f32("w", 3, 4), null, Fake.f32("y", 2, 6)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out tensor 'y'").hasMessageContaining("[4, 3]");
    }

    @Test
    void layerNormBiasIsOptionalButMustFit() {
        assertThat(OpChecks.layerNorm(Fake.f32("x", 2, 8), Fake.f32("g", 8), null, 1e-5f, Fake.f32("o", 2, 8)))
                .isEqualTo(new OpChecks.RowSizes(2, 8));
        assertThatThrownBy(() -> OpChecks.layerNorm(Fake.f32("x", 2, 8), Fake.f32("g", 8), Fake.f32("b", 7), 1e-5f,
                Fake.f32("o", 2, 8))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("layerNorm: bias tensor 'b'").hasMessageContaining("7").hasMessageContaining("8");
    }

    @Test
    void weightsNeedTheExactByteCount() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(OpChecks.weights(DType.BF16, Shape.of(2, 3), arena.allocate(12), "w")).isEqualTo(12);
            assertThatThrownBy(() -> OpChecks.weights(DType.BF16, Shape.of(2, 3), arena.allocate(16), "w"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'w'").hasMessageContaining("12")
                    .hasMessageContaining("16");
            assertThatThrownBy(() -> OpChecks.weights(DType.I32, Shape.of(2), arena.allocate(8), "ids"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("I32");
        }
        assertThatThrownBy(() -> OpChecks.fromFloats(DType.F32, Shape.of(2), null, "v"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fromFloats").hasMessageContaining("'v'");
    }

    @Test
    void attentionChecksTheCacheAgainstTheSpecAndTheWindow() {
        AttentionSpec spec = AttentionSpec.of(AttentionMode.QUERY_WISE, 2, 4, 1, 0);
        Fake qkv = Fake.f32("q", 3, 8);
        Fake dyn = Fake.f32("dyn", 3, 4, 3, 2);
        var sizes = OpChecks.attentionPrefill(qkv, qkv, qkv, dyn, new FakeCache(new KvCacheSpec(8, 2, 4, 1, false), 5),
                spec, Fake.f32("o", 3, 8));
        assertThat(sizes).isEqualTo(new OpChecks.AttentionSizes(3, 2, 4, 1, 5, 8, 0, false));
        assertThatThrownBy(() -> OpChecks.attentionPrefill(qkv, qkv, qkv, dyn, new FakeCache(new KvCacheSpec(7, 2, 4, 1, false), 5),
                spec, Fake.f32("o", 3, 8))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("attentionPrefill: global layer KV cache capacity 7").hasMessageContaining("needs 8");
        AttentionSpec local = new AttentionSpec(AttentionMode.PLAIN_MHA, 2, 4, 0, 4, true, null, null);
        assertThatThrownBy(() -> OpChecks.attentionPrefill(qkv, qkv, qkv, null, new FakeCache(new KvCacheSpec(4, 2, 4, 0, false), 0),
                local, Fake.f32("o", 3, 8))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 5 slots").hasMessageContaining("capacity 4");
        assertThat(OpChecks.attentionPrefill(qkv, qkv, qkv, null, new FakeCache(new KvCacheSpec(5, 2, 4, 0, false), 9), local,
                Fake.f32("o", 3, 8)).keysPerQuery()).isEqualTo(5);
        assertThatThrownBy(() -> OpChecks.attentionDecode(qkv, qkv, qkv, dyn, new FakeCache(new KvCacheSpec(8, 2, 4, 1, false), 0),
                spec, Fake.f32("o", 3, 8))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("attentionDecode: q tensor 'q' F32 [3, 8] must be one row");
    }
}
