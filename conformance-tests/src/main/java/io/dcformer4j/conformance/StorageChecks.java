package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Host copies, dtype rounding, raw weight bytes, views, slices and copies. */
abstract class StorageChecks extends Checks {

    /** Values that probe rounding: ties, subnormals, huge values, signed zero, infinities and NaN. */
    private float[] probes() {
        float[] special = {0f, -0f, 1f, 1f + 0x1p-8f, 1f + 3 * 0x1p-8f, 1f + 0x1p-11f, 1f + 3 * 0x1p-11f, -2.5f,
            65504f, 65520f, 70000f, 6.1e-5f, 3e-8f, 1e-40f, 3.0e38f, Float.MIN_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN};
        float[] random = tck().normal(1000 - special.length, 3.0);
        float[] all = new float[1000]; // [1000]
        System.arraycopy(special, 0, all, 0, special.length);
        System.arraycopy(random, 0, all, special.length, random.length);
        return all;
    }

    private void roundTrip(DType dtype) {
        float[] values = probes();
        float[] expected = TckContext.rounded(dtype, values);
        double[] exact = new double[expected.length]; // [1000]
        for (int i = 0; i < expected.length; i++) {
            exact[i] = expected[i];
        }
        Tensor viaFromFloats = tck().tensor(backend(), dtype, values, "fromFloats", 10, 100);
        Check.close(dtype + " fromFloats → toFloatArray (round to nearest even)", new int[] {10, 100},
                viaFromFloats.toFloatArray(), exact, Tolerances.EXACT);
        Tensor viaCopyFrom = tck().own(backend().allocate(dtype, Shape.of(10, 100), "copyFrom"));
        viaCopyFrom.copyFrom(values);
        Check.close(dtype + " copyFrom → toFloatArray (round to nearest even)", new int[] {10, 100},
                viaCopyFrom.toFloatArray(), exact, Tolerances.EXACT);
        Tensor viaBytes = tck().weights(backend(), dtype, values, "weights", 10, 100);
        Check.close(dtype + " weights(bytes) → toFloatArray (exact widening)", new int[] {10, 100},
                viaBytes.toFloatArray(), exact, Tolerances.EXACT);
    }

    @Test
    void f32StorageRoundTripsExactly() {
        roundTrip(DType.F32);
    }

    @Test
    void bf16StorageRoundsToNearestEven() {
        roundTrip(DType.BF16);
    }

    @Test
    void f16StorageRoundsToNearestEven() {
        roundTrip(DType.F16);
    }

    @Test
    void i32StorageRoundTrips() {
        int[] ids = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 96, 12345};
        Tensor t = tck().own(backend().fromInts(Shape.of(ids.length), ids, "ids"));
        assertThat(t.dtype()).isEqualTo(DType.I32);
        assertThat(t.toIntArray()).containsExactly(ids);
        int[] other = {5, 4, 3, 2, 1, 0, -7};
        t.copyFrom(other);
        assertThat(t.toIntArray()).containsExactly(other);
    }

    @Test
    void allocateIsZeroFilledWithShapeAndLabel() {
        for (DType dtype : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            Tensor t = tck().own(backend().allocate(dtype, Shape.of(3, 65), "zeros-" + dtype));
            assertThat(t.shape()).isEqualTo(Shape.of(3, 65));
            assertThat(t.dtype()).isEqualTo(dtype);
            assertThat(t.label()).isEqualTo("zeros-" + dtype);
            assertThat(t.backend()).isSameAs(backend());
            assertThat(t.toFloatArray()).containsOnly(0f);
        }
    }

    @Test
    void viewAndSliceShareStorage() {
        float[] values = tck().normal(4 * 6, 1.0);
        Tensor parent = tck().f32(values, "parent", 4, 6);
        Tensor view = backend().view(parent, Shape.of(2, 12));
        assertThat(view.shape()).isEqualTo(Shape.of(2, 12));
        assertThat(view.toFloatArray()).containsExactly(values);
        Tensor rows = backend().slice(parent, 1, 3);
        assertThat(rows.shape()).isEqualTo(Shape.of(2, 6));
        float[] expected = Arrays.copyOfRange(values, 6, 18);
        assertThat(rows.toFloatArray()).containsExactly(expected);
        float[] fresh = tck().normal(12, 1.0);
        rows.copyFrom(fresh);
        float[] after = parent.toFloatArray();
        System.arraycopy(fresh, 0, values, 6, 12);
        assertThat(after).as("parent after writing through a slice of rows 1..2").containsExactly(values);
        Tensor sum = tck().zeros("sum", 2, 6);
        backend().add(rows, rows, sum);
        float[] doubled = sum.toFloatArray();
        for (int i = 0; i < 12; i++) {
            assertThat(doubled[i]).as("add over a slice, element " + i).isEqualTo(fresh[i] + fresh[i]);
        }
        backend().add(rows, rows, rows);
        assertThat(parent.toFloatArray()[6]).as("add writing into a slice writes into the parent").isEqualTo(fresh[0] + fresh[0]);
    }

    @Test
    void copyConvertsBetweenDtypes() {
        float[] values = probes();
        Tensor src = tck().f32(values, "src", 1000);
        for (DType dtype : new DType[] {DType.BF16, DType.F16, DType.F32}) {
            Tensor dst = tck().own(backend().allocate(dtype, Shape.of(10, 100), "dst-" + dtype));
            backend().copy(src, dst);
            float[] expected = TckContext.rounded(dtype, values);
            double[] exact = new double[expected.length]; // [1000]
            for (int i = 0; i < exact.length; i++) {
                exact[i] = expected[i];
            }
            Check.close("copy F32 → " + dtype, new int[] {10, 100}, dst.toFloatArray(), exact, Tolerances.EXACT);
            Tensor back = tck().zeros("back-" + dtype, 1000);
            backend().copy(dst, back);
            Check.close("copy " + dtype + " → F32 (exact widening)", new int[] {1000}, back.toFloatArray(), exact, Tolerances.EXACT);
        }
    }

    @Test
    void storageRejectsMismatchedSizes() {
        assertThatThrownBy(() -> tck().own(backend().fromFloats(DType.F32, Shape.of(2, 3), new float[5], "short")))
                .as("fromFloats with 5 values for [2, 3]").isInstanceOf(IllegalArgumentException.class);
        Tensor t = tck().zeros("t", 2, 3);
        assertThatThrownBy(() -> t.copyFrom(new float[7])).as("copyFrom with 7 values into [2, 3]")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().view(t, Shape.of(4, 2))).as("view [2, 3] as [4, 2]")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().slice(t, 1, 3)).as("slice rows 1..3 of 2 rows")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> backend().slice(t, 2, 1)).as("slice with start > end")
                .isInstanceOf(IllegalArgumentException.class);
        Tensor other = tck().zeros("other", 7);
        assertThatThrownBy(() -> backend().copy(t, other)).as("copy 6 elements into 7")
                .isInstanceOf(IllegalArgumentException.class);
    }
}
