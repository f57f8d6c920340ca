package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;

import java.lang.foreign.MemorySegment;

/**
 * {@code out = x · wᵀ + bias} for more than {@link RowGemv#MAX_ROWS} input rows (fewer, decode rows alone or
 * batched, take {@link RowGemv}): a packed GEMM in the GotoBLAS arrangement: per worker a range
 * of output columns; weight blocks [KC × NC] widened to F32 while packing (panels of NR columns), input
 * blocks [MC × KC] packed in panels of MR rows, and an MR × NR register tile that keeps every
 * accumulator in a register (8 × 3 vectors with 32 vector registers, 6 × 2 with 16).
 */
final class LinearKernel {
    static final boolean WIDE = Vec.FS.vectorBitSize() >= 512;
    static final int MR = WIDE ? 8 : 6;
    static final int NV = WIDE ? 3 : 2;
    static final int NR = NV * Vec.L;
    static final int KC = 192;   // a multiple of the Q8_0 block (32): row pieces start on a block
    static final int MC = 192;
    static final int NC = 10 * NR;

    /** Per-thread packing buffers. */
    static final class Buffers {
        final float[] a = new float[MC * KC];       // [MC/MR][KC][MR]
        final float[] b = new float[NC * KC];       // [NC/NR][KC][NR]
        final float[] row = new float[KC];
        final float[] wide = new float[NC];
        final float[] tile = new float[MR * NR];
    }

    private LinearKernel() {
    }

    static void run(WorkerPool pool, ThreadLocal<Buffers> buffers, CpuTensor x, CpuTensor w, CpuTensor bias,
                    CpuTensor out, int t, int in, int o) {
        int panels = (o + NR - 1) / NR;
        pool.parallelFor(panels, 1, (p0, p1) -> {
            gemm(x, w, false, out.seg(), out.offset, t, in, o, p0 * NR, Math.min(o, p1 * NR), buffers.get());
            if (bias != null) {
                addBias(bias, out, t, o, p0 * NR, Math.min(o, p1 * NR));
            }
        });
    }

    /**
     * {@code C = x · w} for input-major weights w [in, o] (the dynamic-weight projections), into the F32
     * rows of {@code cs} at byte offset {@code co}; used for more than {@link RowGemv#MAX_ROWS} rows.
     */
    static void runInputMajor(WorkerPool pool, ThreadLocal<Buffers> buffers, CpuTensor x, CpuTensor w, MemorySegment cs,
                              long co, int t, int in, int o) {
        int panels = (o + NR - 1) / NR;
        pool.parallelFor(panels, 1, (p0, p1) ->
                gemm(x, w, true, cs, co, t, in, o, p0 * NR, Math.min(o, p1 * NR), buffers.get()));
    }

    /** Output columns [c0, c1) of all t rows; w is [o, in], or [in, o] when {@code inputMajor}. */
    private static void gemm(CpuTensor x, CpuTensor w, boolean inputMajor, MemorySegment cs, long cOffset, int t, int in,
                             int o, int c0, int c1, Buffers buf) {
        long rs = 4L * o;
        for (int jc = c0; jc < c1; jc += NC) {
            int nc = Math.min(NC, c1 - jc);
            for (int pc = 0; pc < in; pc += KC) {
                int kc = Math.min(KC, in - pc);
                if (inputMajor) {
                    packInputMajorB(w, o, jc, nc, pc, kc, buf);
                } else {
                    packB(w, in, jc, nc, pc, kc, buf);
                }
                for (int ic = 0; ic < t; ic += MC) {
                    int mc = Math.min(MC, t - ic);
                    packA(x, in, ic, mc, pc, kc, buf);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        int bo = (jr / NR) * kc * NR;
                        for (int ir = 0; ir < mc; ir += MR) {
                            long co = cOffset + rs * (ic + ir) + 4L * (jc + jr);
                            LinearLoops.kernel(MR, NV, buf.a, (ir / MR) * kc * MR, buf.b, bo, kc, cs, co, rs, pc > 0,
                                    Math.min(MR, mc - ir), cols, buf.tile);
                        }
                    }
                }
            }
        }
    }

    /** Widens w[jc..jc+nc, pc..pc+kc) into panels [kc][NR]; columns past nc in the last panel are don't-care. */
    private static void packB(CpuTensor w, int in, int jc, int nc, int pc, int kc, Buffers buf) {
        float[] row = buf.row;
        float[] b = buf.b;
        DType dt = w.dtype();
        for (int j = 0; j < nc; j++) {
            // pc is a multiple of KC, itself of the Q8_0 block, so a Q8_0 row piece starts on a block
            long src = w.offset + dt.bytesFor((long) (jc + j) * in + pc);
            switch (dt) {
                case F32 -> LinearLoops.widenF32(w.seg(), src, row, kc);
                case BF16 -> LinearLoops.widenBF16(w.seg(), src, row, kc);
                case F16 -> LinearLoops.widenF16(w.seg(), src, row, kc);
                case Q8_0 -> Q8Loops.widen(w.seg(), src, row, kc);
                case I32 -> throw new IllegalArgumentException("linear: I32 weights");
            }
            int base = (j / NR) * kc * NR + j % NR;
            for (int p = 0; p < kc; p++) {
                b[base + p * NR] = row[p];
            }
        }
    }

    /** Widens w[pc..pc+kc, jc..jc+nc) of an input-major [in, o] weight into the same panels as {@link #packB}. */
    private static void packInputMajorB(CpuTensor w, int o, int jc, int nc, int pc, int kc, Buffers buf) {
        float[] wide = buf.wide;
        float[] b = buf.b;
        for (int p = 0; p < kc; p++) {
            w.readFloats((long) (pc + p) * o + jc, wide, nc);
            for (int j = 0; j < nc; j++) {
                b[(j / NR) * kc * NR + p * NR + j % NR] = wide[j];
            }
        }
    }

    /** Copies x[ic..ic+mc, pc..pc+kc) into panels [kc][MR]; rows past mc in the last panel are don't-care. */
    private static void packA(CpuTensor x, int in, int ic, int mc, int pc, int kc, Buffers buf) {
        float[] row = buf.row;
        float[] a = buf.a;
        for (int i = 0; i < mc; i++) {
            MemorySegment.copy(x.seg(), CpuTensor.F32, x.offset + 4L * ((long) (ic + i) * in + pc), row, 0, kc);
            int base = (i / MR) * kc * MR + i % MR;
            for (int p = 0; p < kc; p++) {
                a[base + p * MR] = row[p];
            }
        }
    }

    private static void addBias(CpuTensor bias, CpuTensor out, int t, int o, int c0, int c1) {
        MemorySegment os = out.seg();
        for (int c = c0; c < c1; c++) {
            float bv = bias.getFloat(c);
            for (int r = 0; r < t; r++) {
                long at = out.offset + 4L * ((long) r * o + c);
                os.set(CpuTensor.F32, at, os.get(CpuTensor.F32, at) + bv);
            }
        }
    }
}
