package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;

/**
 * Kernels over one contiguous F32 row (or group) at a time: normalisations, softmax, the mgate scaling and
 * element-wise activations. Offsets are byte offsets into the segments; parameters (gain, bias) arrive
 * already widened to float arrays. Vector expressions are written in place (no vector-valued helpers, which
 * C2 would compile separately with boxed vectors).
 */
final class RowKernels {
    // exp(x) = 2^n · p(r), r = x − n·ln 2 (ln 2 split in two), |r| ≤ ½ln 2; inputs clamped so that 2^n is normal
    private static final float EXP_LO = -87.33654f;
    private static final float EXP_HI = 88.0f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float EXP_P0 = 1.9875691500e-4f;
    private static final float EXP_P1 = 1.3981999507e-3f;
    private static final float EXP_P2 = 8.3334519073e-3f;
    private static final float EXP_P3 = 4.1665795894e-2f;
    private static final float EXP_P4 = 1.6666665459e-1f;
    private static final float EXP_P5 = 5.0000001201e-1f;

    private RowKernels() {
    }

    /** out[0..g) = gain ⊙ x / sqrt(mean(x²) + eps). */
    static void rmsNorm(MemorySegment x, long xo, float[] gain, float eps, MemorySegment out, long oo, int g) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i <= g - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE);
            acc = v.fma(v, acc);
        }
        float[] lanes = LaneSum.buffer();
        acc.intoArray(lanes, 0);
        float ss = LaneSum.sum(lanes, 0);
        for (; i < g; i++) {
            float v = x.get(CpuTensor.F32, xo + 4L * i);
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / g + (double) eps));
        i = 0;
        for (; i <= g - L; i += L) {
            FloatVector v = FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE);
            v.mul(inv).mul(FloatVector.fromArray(FS, gain, i)).intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < g; i++) {
            out.set(CpuTensor.F32, oo + 4L * i, x.get(CpuTensor.F32, xo + 4L * i) * inv * gain[i]);
        }
    }

    /** out = gain ⊙ (x − μ)/sqrt(σ² + eps) + bias over one row of length e, σ² the population variance. */
    static void layerNorm(MemorySegment x, long xo, float[] gain, float[] bias, float eps, MemorySegment out, long oo, int e) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0;
        for (; i <= e - L; i += L) {
            acc = acc.add(FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE));
        }
        float[] lanes = LaneSum.buffer();
        acc.intoArray(lanes, 0);
        double sum = LaneSum.sum(lanes, 0);
        for (; i < e; i++) {
            sum += x.get(CpuTensor.F32, xo + 4L * i);
        }
        float mean = (float) (sum / e);
        acc = FloatVector.zero(FS);
        i = 0;
        for (; i <= e - L; i += L) {
            FloatVector d = FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE).sub(mean);
            acc = d.fma(d, acc);
        }
        acc.intoArray(lanes, 0);
        double var = LaneSum.sum(lanes, 0);
        for (; i < e; i++) {
            float d = x.get(CpuTensor.F32, xo + 4L * i) - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / e + eps));
        i = 0;
        for (; i <= e - L; i += L) {
            FloatVector y = FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE).sub(mean).mul(inv);
            y.fma(FloatVector.fromArray(FS, gain, i), FloatVector.fromArray(FS, bias, i)).intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < e; i++) {
            float y = (x.get(CpuTensor.F32, xo + 4L * i) - mean) * inv;
            out.set(CpuTensor.F32, oo + 4L * i, y * gain[i] + bias[i]);
        }
    }

    /** Max-subtracted softmax of one row of n floats. */
    static void softmax(MemorySegment x, long xo, MemorySegment out, long oo, int n) {
        FloatVector mv = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = mv.max(FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, x.get(CpuTensor.F32, xo + 4L * i));
        }
        FloatVector acc = FloatVector.zero(FS);
        i = 0;
        for (; i <= n - L; i += L) {
            // exp by range reduction and a fixed polynomial (Cephes expf): lanewise(EXP) is SVML in C2 but
            // Math.exp per lane before, so the same pass gave other bits once compiled
            FloatVector evx = FloatVector.fromMemorySegment(FS, x, xo + 4L * i, LE).sub(max).max(EXP_LO).min(EXP_HI);
            FloatVector evf = evx.fma(LOG2E, 0.5f);
            FloatVector evn = (FloatVector) evf.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0);
            evn = evn.sub(FloatVector.zero(FS).blend(1f, evn.compare(VectorOperators.GT, evf)));
            FloatVector evr = evn.fma(FloatVector.broadcast(FS, -LN2_HI), evx);
            evr = evn.fma(FloatVector.broadcast(FS, -LN2_LO), evr);
            FloatVector evp = evr.fma(EXP_P0, EXP_P1).fma(evr, FloatVector.broadcast(FS, EXP_P2)).fma(evr, FloatVector.broadcast(FS, EXP_P3)).fma(evr, FloatVector.broadcast(FS, EXP_P4)).fma(evr, FloatVector.broadcast(FS, EXP_P5));
            evp = evp.fma(evr.mul(evr), evr).add(1f);
            FloatVector ev = evp.mul(((IntVector) evn.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            ev.intoMemorySegment(out, oo + 4L * i, LE);
            acc = acc.add(ev);
        }
        float[] lanes = LaneSum.buffer();
        acc.intoArray(lanes, 0);
        float sum = LaneSum.sum(lanes, 0);
        for (; i < n; i++) {
            float ev = (float) Math.exp(x.get(CpuTensor.F32, xo + 4L * i) - max);
            out.set(CpuTensor.F32, oo + 4L * i, ev);
            sum += ev;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(FS, out, oo + 4L * i, LE).mul(inv).intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < n; i++) {
            out.set(CpuTensor.F32, oo + 4L * i, out.get(CpuTensor.F32, oo + 4L * i) * inv);
        }
    }

    /** Softmax over a float array range in place (the attention scratch). */
    static void softmaxInPlace(float[] a, int from, int n) {
        FloatVector mv = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            mv = mv.max(FloatVector.fromArray(FS, a, from + i));
        }
        float max = mv.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            max = Math.max(max, a[from + i]);
        }
        FloatVector acc = FloatVector.zero(FS);
        i = 0;
        for (; i <= n - L; i += L) {
            // exp by range reduction and a fixed polynomial (Cephes expf): lanewise(EXP) is SVML in C2 but
            // Math.exp per lane before, so the same pass gave other bits once compiled
            FloatVector evx = FloatVector.fromArray(FS, a, from + i).sub(max).max(EXP_LO).min(EXP_HI);
            FloatVector evf = evx.fma(LOG2E, 0.5f);
            FloatVector evn = (FloatVector) evf.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0);
            evn = evn.sub(FloatVector.zero(FS).blend(1f, evn.compare(VectorOperators.GT, evf)));
            FloatVector evr = evn.fma(FloatVector.broadcast(FS, -LN2_HI), evx);
            evr = evn.fma(FloatVector.broadcast(FS, -LN2_LO), evr);
            FloatVector evp = evr.fma(EXP_P0, EXP_P1).fma(evr, FloatVector.broadcast(FS, EXP_P2)).fma(evr, FloatVector.broadcast(FS, EXP_P3)).fma(evr, FloatVector.broadcast(FS, EXP_P4)).fma(evr, FloatVector.broadcast(FS, EXP_P5));
            evp = evp.fma(evr.mul(evr), evr).add(1f);
            FloatVector ev = evp.mul(((IntVector) evn.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            ev.intoArray(a, from + i);
            acc = acc.add(ev);
        }
        float[] lanes = LaneSum.buffer();
        acc.intoArray(lanes, 0);
        float sum = LaneSum.sum(lanes, 0);
        for (; i < n; i++) {
            float ev = (float) Math.exp(a[from + i] - max);
            a[from + i] = ev;
            sum += ev;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(FS, a, from + i).mul(inv).intoArray(a, from + i);
        }
        for (; i < n; i++) {
            a[from + i] *= inv;
        }
    }

    /** out = silu(gate) ⊙ up over n floats. */
    static void swiglu(MemorySegment gate, long go, MemorySegment up, long uo, MemorySegment out, long oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector z = FloatVector.fromMemorySegment(FS, gate, go + 4L * i, LE);
            // exp by range reduction and a fixed polynomial (Cephes expf): lanewise(EXP) is SVML in C2 but
            // Math.exp per lane before, so the same pass gave other bits once compiled
            FloatVector ex = z.neg().max(EXP_LO).min(EXP_HI);
            FloatVector ef = ex.fma(LOG2E, 0.5f);
            FloatVector en = (FloatVector) ef.convert(VectorOperators.F2I, 0).convert(VectorOperators.I2F, 0);
            en = en.sub(FloatVector.zero(FS).blend(1f, en.compare(VectorOperators.GT, ef)));
            FloatVector er = en.fma(FloatVector.broadcast(FS, -LN2_HI), ex);
            er = en.fma(FloatVector.broadcast(FS, -LN2_LO), er);
            FloatVector ep = er.fma(EXP_P0, EXP_P1).fma(er, FloatVector.broadcast(FS, EXP_P2)).fma(er, FloatVector.broadcast(FS, EXP_P3)).fma(er, FloatVector.broadcast(FS, EXP_P4)).fma(er, FloatVector.broadcast(FS, EXP_P5));
            ep = ep.fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(((IntVector) en.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
            FloatVector sig = e.add(1f);
            z.div(sig).mul(FloatVector.fromMemorySegment(FS, up, uo + 4L * i, LE)).intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < n; i++) {
            float z = gate.get(CpuTensor.F32, go + 4L * i);
            out.set(CpuTensor.F32, oo + 4L * i, (float) (z / (1.0 + Math.exp(-z))) * up.get(CpuTensor.F32, uo + 4L * i));
        }
    }

    /** out = a + b over n floats. */
    static void add(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment out, long oo, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(FS, a, ao + 4L * i, LE).add(FloatVector.fromMemorySegment(FS, b, bo + 4L * i, LE))
                    .intoMemorySegment(out, oo + 4L * i, LE);
        }
        for (; i < n; i++) {
            out.set(CpuTensor.F32, oo + 4L * i, a.get(CpuTensor.F32, ao + 4L * i) + b.get(CpuTensor.F32, bo + 4L * i));
        }
    }

    /** Exact GELU over n floats, through a float scratch of at least min(n, its length) elements. */
    static void gelu(MemorySegment x, long xo, MemorySegment out, long oo, int n, float[] scratch) {
        for (int done = 0; done < n; done += scratch.length) {
            int m = Math.min(scratch.length, n - done);
            MemorySegment.copy(x, CpuTensor.F32, xo + 4L * done, scratch, 0, m);
            Erf.geluInPlace(scratch, 0, m);
            MemorySegment.copy(scratch, 0, out, CpuTensor.F32, oo + 4L * done, m);
        }
    }

    /** out[e·P + j] = softmax(logits)[e] · u[e·P + j] for one row; {@code g} is scratch of Mg floats. */
    static void mgate(MemorySegment u, long uo, MemorySegment logits, long lo, int groups, int p,
                      MemorySegment out, long oo, float[] g) {
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < groups; e++) {
            g[e] = logits.get(CpuTensor.F32, lo + 4L * e);
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
                FloatVector.fromMemorySegment(FS, u, uo + base + 4L * j, LE).mul(ge).intoMemorySegment(out, oo + base + 4L * j, LE);
            }
            for (; j < p; j++) {
                out.set(CpuTensor.F32, oo + base + 4L * j, u.get(CpuTensor.F32, uo + base + 4L * j) * ge);
            }
        }
    }
}
