package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;

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

    /**
     * The lane sums of four accumulators stored at lanes[at ..) [4][L], in registers and in one pairwise tree
     * order, ((x0 + x1) + (x2 + x3)) + …: written to lanes[at .. at + 4). The four vectors are folded into one
     * with swaps and blends (Vec.SWAP1..8, ODD, HIGH_PAIR); each lane adds the same two partial sums in either
     * order, which IEEE addition does not tell apart, so every GEMV kernel that stores its accumulators and
     * calls this gets the same sums. Summing the 4·L lanes in scalar code instead cost more than the dot
     * product itself at small widths.
     */
    static void tree4(float[] lanes, int at) {
        FloatVector a = FloatVector.fromArray(FS, lanes, at);
        FloatVector b = FloatVector.fromArray(FS, lanes, at + L);
        FloatVector c = FloatVector.fromArray(FS, lanes, at + 2 * L);
        FloatVector d = FloatVector.fromArray(FS, lanes, at + 3 * L);
        FloatVector ab = a.add(a.rearrange(Vec.SWAP1)).blend(b.add(b.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector cd = c.add(c.rearrange(Vec.SWAP1)).blend(d.add(d.rearrange(Vec.SWAP1)), Vec.ODD);
        FloatVector s = ab.add(ab.rearrange(Vec.SWAP2)).blend(cd.add(cd.rearrange(Vec.SWAP2)), Vec.HIGH_PAIR);
        if (L > 4) {
            s = s.add(s.rearrange(Vec.SWAP4));
        }
        if (L > 8) {
            s = s.add(s.rearrange(Vec.SWAP8));
        }
        // lanes 0..3 of s are the four sums; only they are kept (the store may touch lanes past at + 4)
        float s0 = s.lane(0);
        float s1 = s.lane(1);
        float s2 = s.lane(2);
        float s3 = s.lane(3);
        lanes[at] = s0;
        lanes[at + 1] = s1;
        lanes[at + 2] = s2;
        lanes[at + 3] = s3;
    }
}
