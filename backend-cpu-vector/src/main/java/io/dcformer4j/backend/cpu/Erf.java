package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * erfc, erf and exact GELU, evaluated in double precision as {@code erfc(x) = t·P(t)·e^(−x²)} with
 * {@code t = 1/(1 + x/2)} for x ≥ 0 and P a degree-12 least-squares fit of the scaled complementary error
 * function (absolute error of erf below 1e-9, relative error of erfc below 5e-7 up to x = 27, where it
 * underflows). GELU is formed from erfc on the negative side, so it keeps its relative accuracy in the tail.
 */
final class Erf {
    private static final ThreadLocal<double[]> EXP_LANES = ThreadLocal.withInitial(() -> new double[2 * Vec.L]);
    private static final double[] P = {
        0.2820969350830815, 0.28202585343605335, 0.2478138872667938, 0.1681667029780085,
        0.12746094517714943, -0.16301056048405865, 0.33569663485646, -0.6980123997262203,
        0.6335129538413462, -0.20465409365571005, -0.06143558930671608, 0.06420520554444781,
        -0.01386647590977283};
    private static final double ONE_OVER_SQRT2 = 1.0 / Math.sqrt(2.0);
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED.vectorBitSize() == Vec.FS.vectorBitSize()
            ? DoubleVector.SPECIES_PREFERRED : VectorSpecies.of(double.class, Vec.FS.vectorShape());

    private Erf() {
    }

    /** erfc(x) for x ≥ 0. */
    static double erfcPositive(double x) {
        double t = 1.0 / (1.0 + 0.5 * x);
        double p = P[12];
        for (int i = 11; i >= 0; i--) {
            p = p * t + P[i];
        }
        return t * p * Math.exp(-x * x);
    }

    static double erf(double x) {
        double r = 1.0 - erfcPositive(Math.abs(x));
        return Math.copySign(r, x);
    }

    /** Exact GELU, z·½(1 + erf(z/√2)) = z·(1 − ½erfc(z/√2)) for z ≥ 0 and z·½erfc(−z/√2) below. */
    static float gelu(float z) {
        double half = 0.5 * erfcPositive(Math.abs(z) * ONE_OVER_SQRT2);
        return (float) (z >= 0 ? z * (1.0 - half) : z * half);
    }

    /** GELU of a[from..from+n) in place, vectorised in double precision. */
    static void geluInPlace(float[] a, int from, int n) {
        int i = 0;
        int l = Vec.L;
        int dl = DS.length();
        double[] ex = EXP_LANES.get();
        for (; i <= n - l; i += l) {
            FloatVector z = FloatVector.fromArray(Vec.FS, a, from + i);
            DoubleVector z0 = (DoubleVector) z.convertShape(VectorOperators.F2D, DS, 0);
            DoubleVector z1 = (DoubleVector) z.convertShape(VectorOperators.F2D, DS, 1);
            DoubleVector x0 = z0.abs().mul(ONE_OVER_SQRT2);
            DoubleVector x1 = z1.abs().mul(ONE_OVER_SQRT2);
            DoubleVector t0 = x0.fma(0.5, 1.0);
            DoubleVector t1 = x1.fma(0.5, 1.0);
            t0 = DoubleVector.broadcast(DS, 1.0).div(t0);
            t1 = DoubleVector.broadcast(DS, 1.0).div(t1);
            DoubleVector p0 = DoubleVector.broadcast(DS, P[12]);
            DoubleVector p1 = p0;
            for (int k = 11; k >= 0; k--) {
                p0 = p0.fma(t0, DoubleVector.broadcast(DS, P[k]));
                p1 = p1.fma(t1, DoubleVector.broadcast(DS, P[k]));
            }
            // exp lane by lane with Math.exp: lanewise(EXP) is SVML in C2 but Math.exp per lane before, which
            // made the same pass give other bits once compiled
            x0.mul(x0).neg().intoArray(ex, 0);
            x1.mul(x1).neg().intoArray(ex, dl);
            for (int k = 0; k < 2 * dl; k++) {
                ex[k] = Math.exp(ex[k]);
            }
            DoubleVector h0 = t0.mul(p0).mul(DoubleVector.fromArray(DS, ex, 0)).mul(0.5);
            DoubleVector h1 = t1.mul(p1).mul(DoubleVector.fromArray(DS, ex, dl)).mul(0.5);
            DoubleVector g0 = z0.mul(h0.blend(h0.neg().add(1.0), z0.compare(VectorOperators.GE, 0.0)));
            DoubleVector g1 = z1.mul(h1.blend(h1.neg().add(1.0), z1.compare(VectorOperators.GE, 0.0)));
            FloatVector f0 = (FloatVector) g0.convertShape(VectorOperators.D2F, Vec.FS, 0);
            FloatVector f1 = (FloatVector) g1.convertShape(VectorOperators.D2F, Vec.FS, -1);
            f0.add(f1).intoArray(a, from + i);
        }
        for (; i < n; i++) {
            a[from + i] = gelu(a[from + i]);
        }
    }
}
