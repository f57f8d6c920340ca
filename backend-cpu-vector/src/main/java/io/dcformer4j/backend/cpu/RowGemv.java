package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * {@code out = x · wᵀ + bias} for a few rows (decode, and the decode rows of a batch of sequences), written
 * so that every output row is computed with the same operations in the same order whatever the number of
 * rows: a batched decode step then gives each sequence the very floats its own decode would. The workers
 * split the output columns (boundaries depend on the column count and worker count only). Every (row, column)
 * dot product has one vector accumulator that takes lanes 0, L, 2L, … of the row in turn; its lanes are then
 * summed in {@link LaneSum#tree4}'s tree order, the last {@code in % L} elements are added one by one, then
 * the bias. Rows go four at a time through {@link RowBlockDot}, the rest one at a time through
 * {@link FusedRowDot}: both read BF16 and F32 weights in place, so a block of four weight rows comes from
 * memory once for all rows. F16 and Q8_0 rows are first widened (exactly: d · q is exact) into a per-thread
 * scratch segment, as are the last columns of a range that is not a multiple of four.
 */
final class RowGemv {
    /** Up to this many input rows {@code linear} takes this path; more take the packed GEMM. */
    static final int MAX_ROWS = 64;
    /** Output columns per unit of work split over the workers (a multiple of the four-column block). */
    static final int GRAIN = 16;

    /** Per-thread buffers: the lanes of four rows' four accumulators, one widened row, four widened rows. */
    static final class Buffers {
        final float[] lanes = new float[16 * L];   // [4 rows][4 columns][L]
        float[] row = new float[0];                // [in]
        MemorySegment scratch = MemorySegment.NULL; // [4][in] F32

        MemorySegment scratch(int in) {
            if (scratch.byteSize() < 16L * in) {
                scratch = Arena.ofAuto().allocate(16L * in, 64);
                row = new float[in];
            }
            return scratch;
        }
    }

    private RowGemv() {
    }

    static void run(WorkerPool pool, ThreadLocal<Buffers> buffers, CpuTensor x, CpuTensor w, CpuTensor bias, CpuTensor out,
                    int t, int in, int o) {
        pool.parallelForBalanced(o, GRAIN, (c0, c1) -> columns(x, w, bias, out, t, in, o, c0, c1, buffers.get()));
    }

    /**
     * {@link #run} for several weights of one input ({@code Backend.linears}, such as q, k and v): the output
     * columns of all the weights form one range of units split over the workers, so a decode step's short
     * weight streams cost one hand-off for all of them. Each weight's columns are cut at multiples of
     * {@link #GRAIN} from its own first column, as {@link #run} cuts them, so every column gets the floats a
     * single {@code run} would give it.
     */
    static void runMany(WorkerPool pool, ThreadLocal<Buffers> buffers, CpuTensor x, CpuTensor[] w, CpuTensor[] bias,
                        CpuTensor[] out, int t, int in) {
        int n = w.length;
        int[] first = new int[n + 1];   // first[j]: weight j's first unit of GRAIN columns
        for (int j = 0; j < n; j++) {
            first[j + 1] = first[j] + (outputs(w[j]) + GRAIN - 1) / GRAIN;
        }
        pool.parallelForBalanced(first[n], 1, (u0, u1) -> {
            Buffers buf = buffers.get();
            for (int j = 0; j < n; j++) {
                int a = Math.max(u0, first[j]);
                int b = Math.min(u1, first[j + 1]);
                if (a < b) {
                    int o = outputs(w[j]);
                    columns(x, w[j], bias[j], out[j], t, in, o, (a - first[j]) * GRAIN, Math.min(o, (b - first[j]) * GRAIN), buf);
                }
            }
        });
    }

    private static int outputs(CpuTensor w) {
        return w.shape().dim(0);
    }

    /** Output columns [c0, c1) of all t rows (x [t, in], out [t, o]). */
    static void columns(CpuTensor x, CpuTensor w, CpuTensor bias, CpuTensor out, int t, int in, int o, int c0, int c1,
                        Buffers buf) {
        MemorySegment xs = x.seg();
        MemorySegment os = out.seg();
        DType dt = w.dtype();
        boolean inPlace = dt == DType.BF16 || dt == DType.F32;
        long xStride = 4L * in;
        long oStride = 4L * o;
        float[] lanes = buf.lanes;
        for (int c = c0; c < c1; c += 4) {
            int cols = Math.min(4, c1 - c);
            MemorySegment ws;
            long w0;
            long wr;
            boolean bf16;
            if (inPlace && cols == 4) {
                ws = w.seg();
                wr = dt.byteSize() * (long) in;
                w0 = w.offset + wr * c;
                bf16 = dt == DType.BF16;
            } else {
                ws = widen(w, c, cols, in, buf);
                w0 = 0;
                wr = 4L * in;
                bf16 = false;
            }
            int r = 0;
            for (; r + 4 <= t; r += 4) {
                long xr = x.offset + xStride * r;
                if (bf16) {
                    RowBlockDot.bf16(xs, xr, xStride, ws, w0, wr, in, lanes);
                } else {
                    RowBlockDot.f32(xs, xr, xStride, ws, w0, wr, in, lanes);
                }
                for (int k = 0; k < 4; k++) {
                    finish(lanes, 4 * L * k, xs, xr + xStride * k, ws, w0, wr, bf16, in, os,
                            out.offset + oStride * (r + k) + 4L * c, bias, c, cols);
                }
            }
            for (; r < t; r++) {
                long xr = x.offset + xStride * r;
                if (bf16) {
                    FusedRowDot.bf16(xs, xr, ws, w0, wr, in, lanes);
                } else {
                    FusedRowDot.f32(xs, xr, ws, w0, wr, in, lanes);
                }
                finish(lanes, 0, xs, xr, ws, w0, wr, bf16, in, os, out.offset + oStride * r + 4L * c, bias, c, cols);
            }
        }
    }

    /** Weight rows [c, c + cols) widened to F32 rows of the scratch segment; rows cols..3 are zero. */
    private static MemorySegment widen(CpuTensor w, int c, int cols, int in, Buffers buf) {
        MemorySegment s = buf.scratch(in);
        float[] row = buf.row;
        for (int j = 0; j < 4; j++) {
            if (j < cols) {
                long from = (long) (c + j) * in;
                switch (w.dtype()) {
                    case F32 -> LinearLoops.widenF32(w.seg(), w.offset + 4L * from, row, in);
                    case BF16 -> LinearLoops.widenBF16(w.seg(), w.offset + 2L * from, row, in);
                    case F16 -> LinearLoops.widenF16(w.seg(), w.offset + 2L * from, row, in);
                    // straight into the scratch row: a decode row's Q8_0 weights pass through it once
                    case Q8_0 -> Q8Loops.widen(w.seg(), w.offset + w.dtype().bytesFor(from), s, 4L * j * in, in);
                    case I32 -> throw new IllegalArgumentException("linear: I32 weights");
                }
                if (w.dtype() != DType.Q8_0) {
                    MemorySegment.copy(row, 0, s, CpuTensor.F32, 4L * j * in, in);
                }
            } else {
                s.asSlice(4L * j * in, 4L * in).fill((byte) 0);
            }
        }
        return s;
    }

    /**
     * The end of every path's four dot products of one row: the lane sums of the accumulators at
     * lanes[at ..) ({@link LaneSum#tree4}), plus the elements past the last whole vector one by one, plus
     * the bias; writes the first {@code cols} of out[c..c+4) of the row at byte offset {@code or}.
     */
    private static void finish(float[] lanes, int at, MemorySegment xs, long xr, MemorySegment ws, long w0, long wr,
                               boolean bf16, int in, MemorySegment os, long or, CpuTensor bias, int c, int cols) {
        LaneSum.tree4(lanes, at);
        for (int i = in - in % L; i < in; i++) {
            float xv = xs.get(CpuTensor.F32, xr + 4L * i);
            for (int j = 0; j < 4; j++) {
                long wa = w0 + wr * j;
                float wv = bf16 ? Float.intBitsToFloat((ws.get(CpuTensor.I16, wa + 2L * i) & 0xffff) << 16)
                        : ws.get(CpuTensor.F32, wa + 4L * i);
                lanes[at + j] += xv * wv;
            }
        }
        for (int j = 0; j < cols; j++) {
            float s = lanes[at + j];
            if (bias != null) {
                s += bias.getFloat(c + j);
            }
            os.set(CpuTensor.F32, or + 4L * j, s);
        }
    }
}
