package io.dcformer4j.api;

/**
 * The checks a backend's {@link Tensor} makes on its host-side operations, with one wording for every
 * backend: each message names the operation, the tensor's label, dtype and shape, and the offending value.
 * The conformance kit expects the label and the values in these messages; a backend that builds its
 * tensors on these helpers gets them right for free.
 *
 * <pre>{@code
 * public void copyFrom(float[] values) {
 *     TensorChecks.requireOpen(this, "copyFrom", parentClosed());
 *     TensorChecks.requireCount(this, "copyFrom", values.length);
 *     TensorChecks.requireNotI32(this, "copyFrom(float[])");
 *     ...
 * }
 * }</pre>
 */
public final class TensorChecks {
    private TensorChecks() {
    }

    /** {@code tensor 'label' BF16 [2, 3]}: how every message refers to a tensor. */
    public static String describe(Tensor t) {
        return "tensor '" + t.label() + "' " + t.dtype() + " " + t.shape();
    }

    /**
     * Fails when {@code t} is closed. {@code viaParent} says that {@code t} itself was not closed but is a view
     * of a tensor that was, which the message then says.
     */
    public static void requireOpen(Tensor t, String op, boolean viaParent) {
        if (t.isClosed()) {
            throw new IllegalStateException(op + ": " + describe(t) + " is closed"
                    + (viaParent ? " (the tensor it views was closed)" : ""));
        }
    }

    /** Fails when a host array of {@code count} values does not fill {@code t} exactly. */
    public static void requireCount(Tensor t, String op, long count) {
        if (count != t.shape().numel()) {
            throw new IllegalArgumentException(op + ": " + describe(t) + " holds " + t.shape().numel()
                    + " values, got " + count);
        }
    }

    /** Fails unless {@code t} is {@link DType#I32} (integer host copies). */
    public static void requireI32(Tensor t, String op) {
        if (t.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + ": " + describe(t) + " is not I32; use the float[] form");
        }
    }

    /** Fails when {@code t} is {@link DType#I32} (floating-point host copies). */
    public static void requireNotI32(Tensor t, String op) {
        if (t.dtype() == DType.I32) {
            throw new IllegalArgumentException(op + ": " + describe(t) + " is I32; use the int[] form");
        }
    }

    /**
     * The error of a second {@link Tensor#close()}: {@code viaParent} when {@code t} was not closed itself but
     * its parent was, so closing the view is as wrong as closing twice.
     */
    public static IllegalStateException closedTwice(Tensor t, boolean viaParent) {
        return new IllegalStateException("close: " + describe(t) + " is already closed"
                + (viaParent ? " (the tensor it views was closed)" : ""));
    }
}
