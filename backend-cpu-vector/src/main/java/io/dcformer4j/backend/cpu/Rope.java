package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.RopeSpec;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

/**
 * Rotary embedding in the half layout (spec §1.4): within each head, component j &lt; Dr/2 pairs with
 * j + Dr/2 and the result stays in those places; angles are the float32 product position·invFreq, and
 * cos/sin of that float angle are evaluated in double and rounded once (once per row, shared by all heads);
 * the rotation itself is vectorised over j with the same two-rounding arithmetic as the scalar tail.
 */
final class Rope {
    private Rope() {
    }

    /**
     * Rotates rows [r0, r1) of x [T, H·D] (row t at position startPos + t) into out.
     *
     * @param invFreq Dr/2 inverse frequencies; {@code cos}, {@code sin} are scratch of the same length
     */
    static void rows(MemorySegment x, long xo, MemorySegment out, long oo, int cols, int startPos, RopeSpec spec,
                     float[] invFreq, float[] cos, float[] sin, int r0, int r1) {
        int d = spec.headDim();
        int half = spec.rotaryDim() / 2;
        int heads = cols / d;
        boolean inPlace = x == out && xo == oo;
        for (int t = r0; t < r1; t++) {
            float pos = (float) (startPos + t);
            for (int j = 0; j < half; j++) {
                float theta = pos * invFreq[j];
                cos[j] = (float) Math.cos(theta);
                sin[j] = (float) Math.sin(theta);
            }
            long rowX = xo + 4L * t * cols;
            long rowO = oo + 4L * t * cols;
            for (int h = 0; h < heads; h++) {
                long hx = rowX + 4L * h * d;
                long ho = rowO + 4L * h * d;
                int j = 0;
                for (; j + Vec.L <= half; j += Vec.L) {
                    FloatVector a = FloatVector.fromMemorySegment(Vec.FS, x, hx + 4L * j, Vec.LE);
                    FloatVector b = FloatVector.fromMemorySegment(Vec.FS, x, hx + 4L * (j + half), Vec.LE);
                    FloatVector c = FloatVector.fromArray(Vec.FS, cos, j);
                    FloatVector sn = FloatVector.fromArray(Vec.FS, sin, j);
                    a.mul(c).sub(b.mul(sn)).intoMemorySegment(out, ho + 4L * j, Vec.LE);
                    b.mul(c).add(a.mul(sn)).intoMemorySegment(out, ho + 4L * (j + half), Vec.LE);
                }
                for (; j < half; j++) {
                    float a = Vec.getF(x, hx + 4L * j);
                    float b = Vec.getF(x, hx + 4L * (j + half));
                    Vec.setF(out, ho + 4L * j, a * cos[j] - b * sin[j]);
                    Vec.setF(out, ho + 4L * (j + half), b * cos[j] + a * sin[j]);
                }
                if (!inPlace) {
                    for (j = 2 * half; j < d; j++) {
                        Vec.setF(out, ho + 4L * j, Vec.getF(x, hx + 4L * j));
                    }
                }
            }
        }
    }
}
