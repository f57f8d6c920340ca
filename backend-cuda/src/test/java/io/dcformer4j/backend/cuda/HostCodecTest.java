package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HostCodecTest {

    @Test
    void roundTripsEveryFloatTypeWithRoundingToNearestEven() {
        Random r = new Random(7);
        float[] v = new float[37];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian() * 100;
        }
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            byte[] bytes = HostCodec.encode(t, v);
            assertThat(bytes).hasSize(v.length * t.byteSize());
            float[] back = HostCodec.decode(t, bytes);
            for (int i = 0; i < v.length; i++) {
                assertThat(back[i]).as(t + " element " + i).isEqualTo(Numerics.roundTo(t, v[i]));
            }
        }
    }

    @Test
    void encodesLittleEndian() {
        byte[] b = HostCodec.encodeInts(new int[] {0x01020304, -1});
        assertThat(b).isEqualTo(new byte[] {4, 3, 2, 1, -1, -1, -1, -1});
        assertThat(HostCodec.decodeInts(b)).containsExactly(0x01020304, -1);
        assertThat(HostCodec.encode(DType.BF16, new float[] {1.0f})).isEqualTo(new byte[] {(byte) 0x80, 0x3f});
    }
}
