package io.dcformer4j.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NumericsTest {
    @Test
    void bf16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even mantissa (1.0).
        assertThat(Numerics.bf16ToFloat(Numerics.floatToBf16(1f + 0x1p-8f))).isEqualTo(1f);
        // 1 + 3·2^-8 is halfway between 1+2^-7 and 1+2^-6: rounds to the even one, 1+2^-6.
        assertThat(Numerics.bf16ToFloat(Numerics.floatToBf16(1f + 3 * 0x1p-8f))).isEqualTo(1f + 0x1p-6f);
        assertThat(Numerics.bf16ToFloat(Numerics.floatToBf16(-2.5f))).isEqualTo(-2.5f);
        assertThat(Float.isNaN(Numerics.bf16ToFloat(Numerics.floatToBf16(Float.NaN)))).isTrue();
        assertThat(Numerics.bf16ToFloat(Numerics.floatToBf16(Float.POSITIVE_INFINITY))).isEqualTo(Float.POSITIVE_INFINITY);
    }

    @Test
    void f16RoundTripsRepresentableValues() {
        for (float f : new float[] {0f, 1f, -0.5f, 65504f, 6.1035156e-5f}) {
            assertThat(Numerics.f16ToFloat(Numerics.floatToF16(f))).isEqualTo(f);
        }
        assertThat(Numerics.roundTo(DType.F16, 1f + 0x1p-12f)).isEqualTo(1f);
    }

    @Test
    void attentionSpecVisibility() {
        var local = AttentionSpec.of(AttentionMode.DCMHA, 4, 16, 2, 8);
        assertThat(local.firstVisibleKey(3, true)).isZero();
        assertThat(local.firstVisibleKey(20, false)).isEqualTo(13);
        var quirk = new AttentionSpec(AttentionMode.DCMHA, 4, 16, 2, 8, true, null, null);
        assertThat(quirk.firstVisibleKey(20, true)).isEqualTo(12);
        assertThat(quirk.firstVisibleKey(20, false)).isEqualTo(13);
        assertThat(AttentionSpec.of(AttentionMode.PLAIN_MHA, 4, 16, 0, 0).firstVisibleKey(20, true)).isZero();
        assertThat(local.keysPerQuery(true)).isEqualTo(8);
        assertThat(quirk.keysPerQuery(true)).isEqualTo(9);
        assertThat(quirk.keysPerQuery(false)).isEqualTo(8);
        assertThat(local.minRingCapacity()).isEqualTo(8);
        assertThat(quirk.minRingCapacity()).isEqualTo(9);
        assertThat(AttentionSpec.of(AttentionMode.DCMHA, 4, 16, 2, 0).keysPerQuery(true)).isZero();
    }
}
