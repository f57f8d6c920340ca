package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.RopeSpec;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Checks of the oracle itself against published values and against independent formulations. */
class OracleTest {

    @Test
    void erfMatchesPublishedValues() {
        assertThat(Erf.erf(0.0)).isZero();
        assertThat(Erf.erf(0.5)).isCloseTo(0.5204998778130465, within(1e-15));
        assertThat(Erf.erf(1.0)).isCloseTo(0.8427007929497149, within(1e-15));
        assertThat(Erf.erf(-2.0)).isCloseTo(-0.9953222650189527, within(1e-15));
        assertThat(Erf.erf(3.9)).isCloseTo(0.9999999652077514, within(1e-15));
        assertThat(Erf.erfc(3.0)).isCloseTo(2.209049699858544e-05, within(1e-15));
        assertThat(Erf.erfc(5.0) / 1.5374597944280349e-12).isCloseTo(1.0, within(1e-12));
        assertThat(Erf.erfc(-1.0)).isCloseTo(1.8427007929497148, within(1e-15));
        assertThat(Erf.erf(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
        assertThat(Erf.erf(Double.NaN)).isNaN();
    }

    @Test
    void geluIsExact() {
        assertThat(Oracle.gelu(1.0)).isCloseTo(0.8413447460685429, within(1e-15));
        assertThat(Oracle.gelu(-3.0)).isCloseTo(-0.0040496940948903, within(1e-15));
        assertThat(Oracle.gelu(-10.0) / (-10.0 * 7.619853024160527e-24)).isCloseTo(1.0, within(1e-10));
    }

    @Test
    void ropeRotatesByPositionTimesInverseFrequency() {
        RopeSpec spec = new RopeSpec(4, 4, 10000);
        double[] out = Oracle.rope(new float[] {1, 0, 0, 0}, 1, 3, spec);
        assertThat(out[0]).isCloseTo(Math.cos(3.0), within(1e-12));
        assertThat(out[2]).isCloseTo(Math.sin(3.0), within(1e-12));
        assertThat(out[1]).isZero();
    }

    @Test
    void windowRuleFollowsTheSpecTable() {
        OracleAttention local = new OracleAttention(AttentionSpec.of(AttentionMode.DCMHA, 2, 4, 1, 8), null, null);
        assertThat(local.firstVisibleKey(20, true)).isEqualTo(13);
        assertThat(local.firstVisibleKey(3, true)).isZero();
        OracleAttention quirk = new OracleAttention(new AttentionSpec(AttentionMode.DCMHA, 2, 4, 1, 8, true, null, null), null, null);
        assertThat(quirk.firstVisibleKey(20, true)).isEqualTo(12);
        assertThat(quirk.firstVisibleKey(20, false)).isEqualTo(13);
        OracleAttention global = new OracleAttention(AttentionSpec.of(AttentionMode.DCMHA, 2, 4, 1, 0), null, null);
        assertThat(global.firstVisibleKey(20, true)).isZero();
    }

    /** With all dynamic weights zero, DCMHA is plain attention; with one head it is textbook attention. */
    @Test
    void attentionReducesToPlainAttention() {
        SplittableRandom r = new SplittableRandom(7);
        int n = 3;
        int d = 4;
        int p = 6;
        float[] q = random(r, p * n * d);
        float[] k = random(r, p * n * d);
        float[] v = random(r, p * n * d);
        float[] zeroDyn = new float[p * 4 * 3 * n]; // [P, 4, 2I+1, N] with I = 1
        double[] dcmha = new OracleAttention(AttentionSpec.of(AttentionMode.DCMHA, n, d, 1, 0), null, null)
                .attend(q, k, v, zeroDyn, 0, p, true);
        double[] plain = new OracleAttention(AttentionSpec.of(AttentionMode.PLAIN_MHA, n, d, 1, 0), null, null)
                .attend(q, k, v, null, 0, p, true);
        assertThat(dcmha).containsExactly(plain, within(1e-15));
        for (int t = 0; t < p; t++) {
            for (int h = 0; h < n; h++) {
                double[] w = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int j = 0; j < d; j++) {
                        dot += (double) q[(t * n + h) * d + j] * k[(s * n + h) * d + j];
                    }
                    w[s] = dot / 2.0;
                    max = Math.max(max, w[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    w[s] = Math.exp(w[s] - max);
                    sum += w[s];
                }
                for (int j = 0; j < d; j++) {
                    double o = 0;
                    for (int s = 0; s <= t; s++) {
                        o += w[s] / sum * v[(s * n + h) * d + j];
                    }
                    assertThat(plain[(t * n + h) * d + j]).isCloseTo(o, within(1e-12));
                }
            }
        }
    }

    /** Chunked evaluation (a cached prefix) gives the same rows as one evaluation, in exact arithmetic. */
    @Test
    void attentionOfASuffixEqualsTheSameRowsOfTheWhole() {
        SplittableRandom r = new SplittableRandom(11);
        int n = 2;
        int d = 4;
        int p = 9;
        float[] q = random(r, p * n * d);
        float[] k = random(r, p * n * d);
        float[] v = random(r, p * n * d);
        float[] dyn = random(r, p * 4 * 5 * n);
        OracleAttention o = new OracleAttention(AttentionSpec.of(AttentionMode.DCMHA, n, d, 2, 3), null, null);
        double[] whole = o.attend(q, k, v, dyn, 0, p, true);
        double[] suffix = o.attend(q, k, v, dyn, 5, p, true);
        for (int i = 0; i < suffix.length; i++) {
            assertThat(suffix[i]).isCloseTo(whole[5 * n * d + i], within(1e-12));
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }
}
