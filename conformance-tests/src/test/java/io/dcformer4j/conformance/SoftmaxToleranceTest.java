package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The softmax allowances must admit the least accurate sane backend, a plain sequential float32 sum: its
 * error is one-sided and long-tailed when a logit dominates, and a seed once failed the correct naive backend.
 */
class SoftmaxToleranceTest {

    /** A seed whose model-width rows failed the correct naive backend under the former 1e-5 allowance. */
    private static final long FAILING_SEED = 4071879059377775966L;

    @Test
    void admitsTheSequentialSumOnTheSeedThatOnceFailedIt() {
        TckContext tck = contextFor(FAILING_SEED, "softmaxModelScaleRows");
        for (int e : ModelScaleChecks.WIDTHS) {
            float[] x = tck.normal(2 * e, 3.0); // [2, e], as the model-scale check draws it
            tck.normal(2 * e, 1.0); // the check's second input, drawn to keep the sequence
            float[] out = sequentialSoftmax(x, e);
            assertThatCode(() -> Check.close("softmax [2, " + e + "]", new int[] {2, e}, out, Oracle.softmax(x, e),
                    Tolerances.SOFTMAX_LONG)).doesNotThrowAnyException();
        }
    }

    @Test
    void admitsTheSequentialSumOverManyDominatedRows() {
        TckContext tck = contextFor(20261206L, "many rows");
        for (int row = 0; row < 400; row++) {
            float[] x = tck.normal(6912, 3.0); // [1, 6912]
            float[] out = sequentialSoftmax(x, 6912);
            Check.close("softmax row " + row + " of 6912", new int[] {1, 6912}, out, Oracle.softmax(x, 6912), Tolerances.SOFTMAX_LONG);
        }
        for (int row = 0; row < 4000; row++) {
            float[] x = tck.normal(1000, 3.0); // [1, 1000]
            float[] out = sequentialSoftmax(x, 1000);
            Check.close("softmax row " + row + " of 1000", new int[] {1, 1000}, out, Oracle.softmax(x, 1000), Tolerances.SOFTMAX);
        }
    }

    @Test
    void stillRejectsExpRoundedToBfloat16() {
        TckContext tck = contextFor(7L, "bf16 exp");
        float[] x = tck.normal(2 * 1000, 3.0); // [2, 1000]
        float[] out = sequentialSoftmax(x, 1000);
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat(Float.floatToRawIntBits(out[i]) + 0x8000 & 0xFFFF0000); // bf16, nearest
        }
        assertThatThrownBy(() -> Check.close("softmax [2, 1000]", new int[] {2, 1000}, out, Oracle.softmax(x, 1000), Tolerances.SOFTMAX))
                .isInstanceOf(AssertionError.class);
    }

    private static TckContext contextFor(long seed, String testName) {
        return new TckContext(options -> {
            throw new AssertionError("no backend in a tolerance test");
        }, new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ testName.hashCode()));
    }

    /** The naive backend's softmax: max-subtracted, float32 exp, one sequential float32 sum. */
    private static float[] sequentialSoftmax(float[] x, int width) {
        float[] out = x.clone(); // [rows, width]
        for (int from = 0; from < out.length; from += width) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < width; i++) {
                max = Math.max(max, out[from + i]);
            }
            float sum = 0f;
            for (int i = 0; i < width; i++) {
                out[from + i] = (float) Math.exp(out[from + i] - max);
                sum += out[from + i];
            }
            for (int i = 0; i < width; i++) {
                out[from + i] /= sum;
            }
        }
        return out;
    }
}
