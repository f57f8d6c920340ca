package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * Kernels over one contiguous F32 row (or group) at a time: normalisations, softmax, the mgate scaling
 * and element-wise activations. Offsets are byte offsets into the segments; a parameter tensor (gain,
 * bias) may be of any float dtype and is widened in registers.
 */
final class RowKernels {
    private RowKernels() {
    }

    /** out[0..g) = gain ⊙ x / sqrt(mean(x²) + eps). */
    static void rmsNorm(MemorySegment x, long xo, MemorySegment gain, long go, DType gt, float eps,
                        MemorySegment out, long oo, int g) {
        FloatVector acc = FloatVector.zero(Vec.FS);
        int i = 0;
        for (; i <= g - L; i += L) {
            FloatVector v = Vec.f32(x, xo + 4L * i);
            acc = v.fma(v, acc);
        }
        float ss = acc.reduceLanes(VectorOperators.ADD);
        for (; i < g; i++) {
            float v = Vec.getF(x, xo + 4L * i);
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / g + (double) eps));
        i = 0;
        for (; i <= g - L; i += L) {
            FloatVector v = Vec.f32(x, xo + 4L * i);
            Vec.store(v.mul(inv).mul(Vec.load(gt, gain, go, i)), out, oo + 4L * i);
        }
        for (; i < g; i++) {
            Vec.setF(out, oo + 4L * i, Vec.getF(x, xo + 4L * i) * inv * Vec.get(gt, gain, go, i));
        }
    }

    /** out = gain ⊙ (x − μ)/sqrt(σ² + eps) + bias over one row of length e, σ² the population variance. */
    static void layerNorm(MemorySegment x, long xo, MemorySegment gain, long go, DType gt,
                          MemorySegment bias, long bo, DType bt, float eps, MemorySegment out, long oo, int e) {
        FloatVector acc = FloatVector.zero(Vec.FS);
        int i = 0;
        for (; i <= e - L; i += L) {
            acc = acc.add(Vec.f32(x, xo + 4L * i));
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < e; i++) {
            sum += Vec.getF(x, xo + 4L * i);
        }
        float mean = (float) (sum / e);
        acc = FloatVector.zero(Vec.FS);
        i = 0;
        for (; i <= e - L; i += L) {
            FloatVector d = Vec.f32(x, xo + 4L * i).sub(mean);
            acc = d.fma(d, acc);
        }
        double var = acc.reduceLanes(VectorOperators.ADD);
        for (; i < e; i++) {
            float d = Vec.getF(x, xo + 4L * i) - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / e + eps));
        i = 0;
        for (; i <= e - L; i += L) {
            FloatVector y = Vec.f32(x, xo + 4L * i).sub(mean).mul(inv);
            Vec.store(y.fma(Vec.load(gt, gain, go, i), Vec.load(bt, bias, bo, i)), out, oo + 4L * i);
        }
        for (; i < e; i++) {
            float y = (Vec.getF(x, xo + 4L * i) - mean) * inv;
            Vec.setF(out, oo + 4L * i, y * Vec.get(gt, gain, go, i) + Vec.get(bt, bias, bo, i));
        }
    }

    /** Max-subtracted softmax of one row of n floats. */
    static void softmax(MemorySegment x, long xo, MemorySegment out, long oo, int n) {
        FloatVector mv = FloatVector.broadcast(Vec.FS, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = mv.max(Vec.f32(x, xo + 4L * i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, Vec.getF(x, xo + 4L * i));
        }
        FloatVector acc = FloatVector.zero(Vec.FS);
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector ev = Vec.f32(x, xo + 4L * i).sub(max).lanewise(VectorOperators.EXP);
            Vec.store(ev, out, oo + 4L * i);
            acc = acc.add(ev);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float ev = (float) Math.exp(Vec.getF(x, xo + 4L * i) - max);
            Vec.setF(out, oo + 4L * i, ev);
            sum += ev;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) {
            Vec.store(Vec.f32(out, oo + 4L * i).mul(inv), out, oo + 4L * i);
        }
        for (; i < n; i++) {
            Vec.setF(out, oo + 4L * i, Vec.getF(out, oo + 4L * i) * inv);
        }
    }

    /** Softmax over a float array range in place (the attention scratch). */
    static void softmaxInPlace(float[] a, int from, int n) {
        FloatVector mv = FloatVector.broadcast(Vec.FS, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = mv.max(FloatVector.fromArray(Vec.FS, a, from + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, a[from + i]);
        }
        FloatVector acc = FloatVector.zero(Vec.FS);
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector ev = FloatVector.fromArray(Vec.FS, a, from + i).sub(max).lanewise(VectorOperators.EXP);
            ev.intoArray(a, from + i);
            acc = acc.add(ev);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            float ev = (float) Math.exp(a[from + i] - max);
            a[from + i] = ev;
            sum += ev;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(Vec.FS, a, from + i).mul(inv).intoArray(a, from + i);
        }
        for (; i < n; i++) {
            a[from + i] *= inv;
        }
    }

    /** out = silu(gate) ⊙ up over n floats. */
    static void swiglu(MemorySegment gate, long go, MemorySegment up, long uo, MemorySegment out, long oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector z = Vec.f32(gate, go + 4L * i);
            FloatVector sig = z.neg().lanewise(VectorOperators.EXP).add(1f);
            Vec.store(z.div(sig).mul(Vec.f32(up, uo + 4L * i)), out, oo + 4L * i);
        }
        for (; i < n; i++) {
            float z = Vec.getF(gate, go + 4L * i);
            Vec.setF(out, oo + 4L * i, (float) (z / (1.0 + Math.exp(-z))) * Vec.getF(up, uo + 4L * i));
        }
    }

    /** out = a + b over n floats. */
    static void add(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment out, long oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            Vec.store(Vec.f32(a, ao + 4L * i).add(Vec.f32(b, bo + 4L * i)), out, oo + 4L * i);
        }
        for (; i < n; i++) {
            Vec.setF(out, oo + 4L * i, Vec.getF(a, ao + 4L * i) + Vec.getF(b, bo + 4L * i));
        }
    }

    /** Exact GELU over n floats. */
    static void gelu(MemorySegment x, long xo, MemorySegment out, long oo, int n) {
        for (int i = 0; i < n; i++) {
            Vec.setF(out, oo + 4L * i, Erf.gelu(Vec.getF(x, xo + 4L * i)));
        }
    }

    /** out[e·P + j] = softmax(logits)[e] · u[e·P + j] for one row; {@code g} is scratch of Mg floats. */
    static void mgate(MemorySegment u, long uo, MemorySegment logits, long lo, int groups, int p,
                      MemorySegment out, long oo, float[] g) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < groups; e++) {
            g[e] = Vec.getF(logits, lo + 4L * e);
            max = Math.max(max, g[e]);
        }
        double sum = 0;
        for (int e = 0; e < groups; e++) {
            g[e] = (float) Math.exp(g[e] - max);
            sum += g[e];
        }
        float inv = (float) (1.0 / sum);
        for (int e = 0; e < groups; e++) {
            float ge = g[e] * inv;
            long base = 4L * e * p;
            int j = 0;
            for (; j <= p - L; j += L) {
                Vec.store(Vec.f32(u, uo + base + 4L * j).mul(ge), out, oo + base + 4L * j);
            }
            for (; j < p; j++) {
                Vec.setF(out, oo + base + 4L * j, Vec.getF(u, uo + base + 4L * j) * ge);
            }
        }
    }

    /** Widens n elements of a float tensor into an F32 row. */
    static void widen(DType dt, MemorySegment src, long so, MemorySegment out, long oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            Vec.store(Vec.load(dt, src, so, i), out, oo + 4L * i);
        }
        for (; i < n; i++) {
            Vec.setF(out, oo + 4L * i, Vec.get(dt, src, so, i));
        }
    }
}
