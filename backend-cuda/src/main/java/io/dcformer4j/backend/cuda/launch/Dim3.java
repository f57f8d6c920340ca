package io.dcformer4j.backend.cuda.launch;

/** A CUDA grid or block extent. */
public record Dim3(int x, int y, int z) {
    /** Validates that every extent is positive. */
    public Dim3 {
        if (x <= 0 || y <= 0 || z <= 0) {
            throw new IllegalArgumentException("launch extents must be positive, got (" + x + ", " + y + ", " + z + ")");
        }
    }

    /** A one-dimensional extent. */
    public static Dim3 of(int x) {
        return new Dim3(x, 1, 1);
    }

    /** A two-dimensional extent. */
    public static Dim3 of(int x, int y) {
        return new Dim3(x, y, 1);
    }

    /** Product of the extents. */
    public long volume() {
        return (long) x * y * z;
    }
}
