package io.dcformer4j.backend.cpu;

/**
 * Sums of a vector's lanes in one fixed order. {@code reduceLanes(ADD)} leaves the order open, and HotSpot
 * uses two: the interpreter and C1 run the Java fallback, which adds lane 0, 1, 2, … in turn, while C2's
 * intrinsic adds the upper half of the register to the lower half until one lane is left. The same pass then
 * gave other last bits before and after its kernels reached C2 (identical inputs differed by up to 1e-5 in
 * most logits between runs). A kernel stores the vector into a per-thread buffer and sums it here instead;
 * a scalar method, so C2 inlines it (a helper taking a vector would be compiled on its own, boxed).
 */
final class LaneSum {
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[4 * Vec.L]);

    private LaneSum() {
    }

    /** This thread's buffer of four vectors of lanes. */
    static float[] buffer() {
        return BUFFER.get();
    }

    /** The {@link Vec#L} lanes at {@code at}, added pairwise in a fixed order. */
    static float sum(float[] lanes, int at) {
        float s = 0f;
        for (int l = 0; l < Vec.L; l += 2) {
            s += lanes[at + l] + lanes[at + l + 1];
        }
        return s;
    }
}
