package io.dcformer4j.api;

import java.util.Arrays;

/**
 * An immutable tensor shape, outermost dimension first (row-major, the last dimension contiguous).
 */
public final class Shape {
    private final int[] dims;
    private final long numel;

    private Shape(int[] dims) {
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0) {
                throw new IllegalArgumentException("negative dimension " + dims[i] + " at axis " + i + " of shape "
                        + Arrays.toString(dims));
            }
            n = Math.multiplyExact(n, dims[i]);
        }
        this.dims = dims;
        this.numel = n;
    }

    /** A shape with the given dimensions. */
    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** A shape from long dimensions, each of which must fit an int. */
    public static Shape ofLongs(long... dims) {
        int[] d = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE || dims[i] < 0) {
                throw new IllegalArgumentException("dimension " + dims[i] + " at axis " + i + " is out of range");
            }
            d[i] = (int) dims[i];
        }
        return new Shape(d);
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Size of one axis; negative axes count from the end. */
    public int dim(int axis) {
        return dims[axis < 0 ? dims.length + axis : axis];
    }

    /** Total number of elements. */
    public long numel() {
        return numel;
    }

    /** A copy of the dimensions. */
    public int[] dims() {
        return dims.clone();
    }

    /** Product of all dimensions but the last: the number of rows when viewed as a matrix. */
    public long rows() {
        return dims.length == 0 ? 1 : numel / Math.max(1, dims[dims.length - 1]) ;
    }

    /** Size of the last dimension (1 for a scalar). */
    public int cols() {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    /** This shape with axis 0 replaced. */
    public Shape withDim0(int size) {
        int[] d = dims.clone();
        d[0] = size;
        return new Shape(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
