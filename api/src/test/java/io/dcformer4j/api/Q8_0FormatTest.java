package io.dcformer4j.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Q8_0FormatTest {
    @Test
    void blockLayoutIsScaleThenBytes() {
        float[] x = new float[32];
        x[0] = 127f;          // max |x| = 127: d = 1 exactly, so q = round(x)
        x[1] = 2.5f;          // halves round away from zero
        x[2] = -2.5f;
        x[3] = 0.5f;
        x[4] = -0.5f;
        x[5] = 1.4999f;
        x[6] = -127f;
        byte[] b = Q8_0Format.quantize(x);
        assertThat(b).hasSize(34);
        assertThat((short) ((b[0] & 0xff) | (b[1] & 0xff) << 8)).isEqualTo(Float.floatToFloat16(1f));
        assertThat(new byte[] {b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]})
                .containsExactly(127, 3, -3, 1, -1, 1, -127, 0);
        assertThat(Q8_0Format.dequantize(b)[1]).isEqualTo(3f);
    }

    @Test
    void errorIsAtMostHalfAStepOfTheStoredScale() {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = new float[32 * 50];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * Math.pow(10, i / 32 % 7 - 3));
        }
        byte[] b = Q8_0Format.quantize(x);
        float[] y = Q8_0Format.dequantize(b);
        for (int blk = 0; blk < 50; blk++) {
            float d = Q8_0Format.scale(java.lang.foreign.MemorySegment.ofArray(b), 0, blk);
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[blk * 32 + j]));
            }
            assertThat(d).isEqualTo(Numerics.roundTo(DType.F16, amax / 127f));
            for (int j = 0; j < 32; j++) {
                int i = blk * 32 + j;
                assertThat((double) Math.abs(x[i] - y[i])).as("value %d", i).isLessThanOrEqualTo(d * 0.5000001 + 1e-30);
            }
        }
    }

    @Test
    void zeroBlockHasZeroScale() {
        byte[] b = Q8_0Format.quantize(new float[64]);
        assertThat(b).containsOnly(0);
        assertThat(Q8_0Format.dequantize(b)).containsOnly(0f);
    }

    @Test
    void refusesNonFiniteValuesAndPartialBlocks() {
        float[] x = new float[32];
        x[9] = Float.NaN;
        assertThatThrownBy(() -> Q8_0Format.quantize(x)).hasMessageContaining("index 9");
        assertThatThrownBy(() -> Q8_0Format.quantize(new float[33])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Q8_0Format.requireBlocks(Shape.of(4, 40), "w"))
                .hasMessageContaining("[4, 40]").hasMessageContaining("multiple of 32");
    }

    @Test
    void sizesAreCountedInBlocks() {
        assertThat(DType.Q8_0.bytesFor(64)).isEqualTo(68);
        assertThat(DType.BF16.bytesFor(3)).isEqualTo(6);
        assertThat(DType.Q8_0.isFloating()).isFalse();
        assertThatThrownBy(DType.Q8_0::byteSize).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> DType.Q8_0.bytesFor(31)).isInstanceOf(IllegalArgumentException.class);
        assertThat(DType.fromSafetensorsName("Q8_0")).isEqualTo(DType.Q8_0);
    }

    @Test
    void linearChecksAcceptQ8WeightsWithWholeBlocksOnly() {
        assertThatThrownBy(() -> OpChecks.allocate(DType.Q8_0, Shape.of(3, 40), "wo"))
                .hasMessageContaining("wo").hasMessageContaining("[3, 40]");
        assertThat(OpChecks.allocate(DType.Q8_0, Shape.of(3, 64), "wo")).isEqualTo(3 * 2 * 34);
    }
}
