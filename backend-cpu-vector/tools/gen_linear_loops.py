import os
import sys
# Generates LinearLoops.java of the cpu backend: the per-dtype GEMV loops and the GEMM register tiles.
# Run: python3 backend-cpu-vector/tools/gen_linear_loops.py (the output is committed; edit this, not the Java).
# With a path argument it writes there instead of over the committed file.
def widen_expr(dt, seg, off):
    if dt == 'F32':
        return f"FloatVector.fromMemorySegment(FS, {seg}, {off}, LE)"
    if dt == 'BF16':
        return (f"((IntVector) ShortVector.fromMemorySegment(SS, {seg}, {off}, LE).convertShape(VectorOperators.S2I, IS, 0))"
                f".lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()")
    raise Exception()

def load_lines(dt, var, seg, off, indent):
    p = ' ' * indent
    if dt in ('F32', 'BF16'):
        return [f"{p}FloatVector {var} = {widen_expr(dt, seg, off)};"]
    # F16: widen through integer bit manipulation (exact, incl. subnormals/inf/nan)
    return [
        f"{p}IntVector {var}h = (IntVector) ShortVector.fromMemorySegment(SS, {seg}, {off}, LE).convertShape(VectorOperators.S2I, IS, 0);",
        f"{p}IntVector {var}m = {var}h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);",
        f"{p}IntVector {var}s = {var}m.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts()"
        f".blend({var}m.or(0x7f800000), {var}h.and(0x7c00).compare(VectorOperators.EQ, 0x7c00));",
        f"{p}FloatVector {var} = {var}s.or({var}h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();",
    ]

def scalar(dt, seg, off):
    if dt == 'F32':
        return f"{seg}.get(CpuTensor.F32, {off})"
    if dt == 'BF16':
        return f"Float.intBitsToFloat(({seg}.get(CpuTensor.I16, {off}) & 0xffff) << 16)"
    return f"Float.float16ToFloat({seg}.get(CpuTensor.I16, {off}))"

out = []
w = out.append

def gemv(dt):
    bs = 4 if dt == 'F32' else 2
    w(f"""
    /** Output columns [o0, o1) of T ≤ a few rows, {dt} weights: four weight rows at a time, two vector steps unrolled. */
    static void gemv{dt}(MemorySegment xs, long xo, MemorySegment ws, long wo, CpuTensor bias, MemorySegment os, long oo,
                         int t, int in, int o, int o0, int o1) {{
        long rowBytes = {bs}L * in;
        float[] lanes = LaneSum.buffer();
        int c = o0;
        for (; c + 4 <= o1; c += 4) {{
            long w0 = wo + rowBytes * c;
            long w1 = w0 + rowBytes;
            long w2 = w1 + rowBytes;
            long w3 = w2 + rowBytes;
            for (int r = 0; r < t; r++) {{
                long xr = xo + 4L * r * in;
                FloatVector a0 = FloatVector.zero(FS);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                FloatVector b0 = a0;
                FloatVector b1 = a0;
                FloatVector b2 = a0;
                FloatVector b3 = a0;
                int i = 0;
                for (; i <= in - 2 * L; i += 2 * L) {{
                    FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);
                    FloatVector x1 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * (i + L), LE);""")
    for k in range(4):
        for u, (acc, xv) in enumerate((('a', 'x0'), ('b', 'x1'))):
            off = f"w{k} + {bs}L * i" if u == 0 else f"w{k} + {bs}L * (i + L)"
            for line in load_lines(dt, f"v{k}{u}", 'ws', off, 20):
                w(line)
            w(f"                    {acc}{k} = v{k}{u}.fma({xv}, {acc}{k});")
    w(f"""                }}
                for (; i <= in - L; i += L) {{
                    FloatVector x0 = FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE);""")
    for k in range(4):
        for line in load_lines(dt, f"v{k}", 'ws', f"w{k} + {bs}L * i", 20):
            w(line)
        w(f"                    a{k} = v{k}.fma(x0, a{k});")
    w(f"""                }}
                a0.add(b0).intoArray(lanes, 0);
                a1.add(b1).intoArray(lanes, L);
                a2.add(b2).intoArray(lanes, 2 * L);
                a3.add(b3).intoArray(lanes, 3 * L);
                float s0 = LaneSum.sum(lanes, 0);
                float s1 = LaneSum.sum(lanes, L);
                float s2 = LaneSum.sum(lanes, 2 * L);
                float s3 = LaneSum.sum(lanes, 3 * L);
                for (; i < in; i++) {{
                    float xv = xs.get(CpuTensor.F32, xr + 4L * i);
                    s0 += xv * {scalar(dt, 'ws', f'w0 + {bs}L * i')};
                    s1 += xv * {scalar(dt, 'ws', f'w1 + {bs}L * i')};
                    s2 += xv * {scalar(dt, 'ws', f'w2 + {bs}L * i')};
                    s3 += xv * {scalar(dt, 'ws', f'w3 + {bs}L * i')};
                }}
                long out = oo + 4L * ((long) r * o + c);
                os.set(CpuTensor.F32, out, s0 + biasAt(bias, c));
                os.set(CpuTensor.F32, out + 4, s1 + biasAt(bias, c + 1));
                os.set(CpuTensor.F32, out + 8, s2 + biasAt(bias, c + 2));
                os.set(CpuTensor.F32, out + 12, s3 + biasAt(bias, c + 3));
            }}
        }}
        for (; c < o1; c++) {{
            long w0 = wo + rowBytes * c;
            for (int r = 0; r < t; r++) {{
                long xr = xo + 4L * r * in;
                FloatVector a0 = FloatVector.zero(FS);
                int i = 0;
                for (; i <= in - L; i += L) {{""")
    for line in load_lines(dt, "v0", 'ws', f"w0 + {bs}L * i", 20):
        w(line)
    w(f"""                    a0 = v0.fma(FloatVector.fromMemorySegment(FS, xs, xr + 4L * i, LE), a0);
                }}
                a0.intoArray(lanes, 0);
                float s0 = LaneSum.sum(lanes, 0);
                for (; i < in; i++) {{
                    s0 += xs.get(CpuTensor.F32, xr + 4L * i) * {scalar(dt, 'ws', f'w0 + {bs}L * i')};
                }}
                os.set(CpuTensor.F32, oo + 4L * ((long) r * o + c), s0 + biasAt(bias, c));
            }}
        }}
    }}
""")

def widen_row(dt):
    bs = 4 if dt == 'F32' else 2
    w(f"""
    /** dst[0..n) = the {dt} elements at byte offset src (widened). */
    static void widen{dt}(MemorySegment s, long src, float[] dst, int n) {{
        int i = 0;
        for (; i <= n - L; i += L) {{""")
    for line in load_lines(dt, "v", 's', f"src + {bs}L * i", 12):
        w(line)
    w(f"""            v.intoArray(dst, i);
        }}
        for (; i < n; i++) {{
            dst[i] = {scalar(dt, 's', f'src + {bs}L * i')};
        }}
    }}
""")

def kernel(mr, nv):
    name = f"kernel{mr}x{nv}"
    w(f"""
    /**
     * The {mr}×{nv}L register tile: C[0..{mr}, 0..{nv}L) (+)= Σ_p A[p][i]·B[p][j] over kc packed steps, with
     * A packed [kc][{mr}] and B packed [kc][{nv}L]. Full tiles go straight to C; edge tiles through {{@code tile}}.
     */
    private static void {name}(float[] ap, int ao, float[] bp, int bo, int kc, MemorySegment cs, long co, long rs,
                                boolean accumulate, int rows, int cols, float[] tile) {{""")
    for i in range(mr):
        for j in range(nv):
            w(f"        FloatVector c{i}{j} = FloatVector.zero(FS);")
    w(f"""        int a = ao;
        int b = bo;
        for (int p = 0; p < kc; p++) {{""")
    for j in range(nv):
        w(f"            FloatVector b{j} = FloatVector.fromArray(FS, bp, b{' + ' + str(j) + ' * L' if j else ''});")
    for i in range(mr):
        w(f"            FloatVector x{i} = FloatVector.broadcast(FS, ap[a + {i}]);")
        for j in range(nv):
            w(f"            c{i}{j} = x{i}.fma(b{j}, c{i}{j});")
    w(f"""            a += {mr};
            b += {nv} * L;
        }}""")
    for i in range(mr):
        for j in range(nv):
            w(f"        c{i}{j}.intoArray(tile, {i * nv} * L + {j} * L);")
    w(f"""        flush(tile, {nv} * L, cs, co, rs, accumulate, rows, cols);
    }}
""")

w("""package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.IS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;
import static io.dcformer4j.backend.cpu.Vec.SS;

/**
 * Inner loops of {@code linear}, generated by tools/gen_linear_loops.py: a streaming GEMV per weight dtype
 * (weights widened in registers, eight independent accumulators to cover the FMA latency) and the register
 * tiles of the packed GEMM.
 * Every vector expression is written out in place: a helper method returning a vector would be compiled on
 * its own, with boxed vectors, and then refused for inlining.
 */
final class LinearLoops {
    private LinearLoops() {
    }
""")
for dt in ('F32', 'BF16', 'F16'):
    gemv(dt)
for dt in ('F32', 'BF16', 'F16'):
    widen_row(dt)
kernel(8, 3)
kernel(6, 2)
w("""
    /** Adds or stores the valid [rows, cols] corner of a register tile (row stride {@code width}) into C. */
    private static void flush(float[] tile, int width, MemorySegment cs, long co, long rs, boolean accumulate, int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            long at = co + i * rs;
            int j = 0;
            for (; j <= cols - L; j += L) {
                FloatVector v = FloatVector.fromArray(FS, tile, i * width + j);
                if (accumulate) {
                    v = v.add(FloatVector.fromMemorySegment(FS, cs, at + 4L * j, LE));
                }
                v.intoMemorySegment(cs, at + 4L * j, LE);
            }
            for (; j < cols; j++) {
                float v = tile[i * width + j];
                cs.set(CpuTensor.F32, at + 4L * j, accumulate ? cs.get(CpuTensor.F32, at + 4L * j) + v : v);
            }
        }
    }

    private static float biasAt(CpuTensor bias, int c) {
        return bias == null ? 0f : bias.getFloat(c);
    }

    /** Runs the register tile chosen for this machine's vector width. */
    static void kernel(int mr, int nv, float[] ap, int ao, float[] bp, int bo, int kc, MemorySegment cs, long co, long rs,
                       boolean accumulate, int rows, int cols, float[] tile) {
        if (mr == 8 && nv == 3) {
            kernel8x3(ap, ao, bp, bo, kc, cs, co, rs, accumulate, rows, cols, tile);
        } else {
            kernel6x2(ap, ao, bp, bo, kc, cs, co, rs, accumulate, rows, cols, tile);
        }
    }
}
""")
# The committed file by default; a path argument writes there instead (LinearLoopsGeneratedTest compares the two).
target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'main',
                                                             'java', 'io', 'dcformer4j', 'backend', 'cpu', 'LinearLoops.java')
with open(target, 'w', encoding='utf-8', newline='\n') as f:
    f.write('\n'.join(out))
