package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.dcformer4j.backend.cpu.AttentionKernel.R;
import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * The fused attention by blocks of {@value AttentionKernel#R} consecutive query rows (every prefill, and a
 * decode row with few keys): logits, pre-compose, softmax over each row's visible keys, post-compose, masking
 * and P·V for the block's key range.
 */
final class PrefillBlocks {
    private PrefillBlocks() {
    }

    /** Number of row blocks of a call of {@code t} rows. */
    static int count(int t) {
        return (t + R - 1) / R;
    }

    /**
     * Row blocks [b0, b1) in a zig-zag order (0, n−1, 1, n−2, …) so that contiguous ranges of blocks carry
     * similar causal work.
     */
    static void run(AttentionKernel.Call c, int b0, int b1, AttentionKernel.Scratch sc) {
        int nb = count(c.t());
        for (int i = b0; i < b1; i++) {
            int b = (i % 2 == 0) ? i / 2 : nb - 1 - i / 2;
            block(c, b * R, Math.min(R, c.t() - b * R), sc);
        }
    }

    /** Rows t0 .. t0+rb−1 of the call. */
    private static void block(AttentionKernel.Call c, int t0, int rb, AttentionKernel.Scratch sc) {
        AttentionSpec spec = c.spec();
        int n = spec.numHeads();
        int d = spec.headDim();
        int nd = n * d;
        boolean multiTokenCall = c.t() > 1;
        int p0 = c.start() + t0;
        int lo = spec.firstVisibleKey(p0, multiTokenCall);
        int hi = p0 + rb - 1;
        int s = hi - lo + 1;
        int sp = (s + L - 1) / L * L;
        sc.ensure(n, d, sp, Math.max(spec.rank(), 1));
        int count = AttentionKernel.pieces(c, lo, hi, sc);
        KeyPiece[] pieces = sc.pieces;
        for (int r = 0; r < R; r++) {
            int row = t0 + Math.min(r, rb - 1);
            MemorySegment.copy(c.q().seg(), CpuTensor.F32, c.qAt(row), sc.q, r * nd, nd);
        }
        float scale = (float) (1.0 / Math.sqrt(d));
        for (int pc = 0; pc < count; pc++) {
            KeyPiece k = pieces[pc];
            if (rb == 1) {
                AttentionLoops.logits1(sc.q, k.keys(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, scale, sc.logits);
            } else {
                AttentionLoops.logits(sc.q, k.keys(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, scale, sc.logits);
            }
        }
        boolean compose = spec.mode() != AttentionMode.PLAIN_MHA;
        if (compose) {
            ComposeLoop.compose(c, sc.logits, sc, pieces, count, t0, rb, ComposeLoop.Stage.PRE, sp);
        }
        for (int r = 0; r < rb; r++) {
            int p = p0 + r;
            int vlo = spec.firstVisibleKey(p, multiTokenCall) - lo;
            int vhi = p - lo;
            for (int h = 0; h < n; h++) {
                RowKernels.softmaxInPlace(sc.logits, r * n * sp + h * sp + vlo, vhi - vlo + 1);
            }
        }
        if (compose) {
            ComposeLoop.compose(c, sc.logits, sc, pieces, count, t0, rb, ComposeLoop.Stage.POST, sp);
        }
        for (int r = 0; r < rb; r++) {
            int p = p0 + r;
            int vlo = spec.firstVisibleKey(p, multiTokenCall) - lo;
            int vhi = p - lo;
            for (int h = 0; h < n; h++) {
                int hb = r * n * sp + h * sp;
                Arrays.fill(sc.logits, hb, hb + vlo, 0f);
                Arrays.fill(sc.logits, hb + vhi + 1, hb + sp, 0f);
            }
        }
        if (rb > 1) {
            for (int r = rb; r < R; r++) {
                Arrays.fill(sc.logits, r * n * sp, (r + 1) * n * sp, 0f);
            }
        }
        Arrays.fill(sc.out, 0, R * nd, 0f);
        for (int pc = 0; pc < count; pc++) {
            KeyPiece k = pieces[pc];
            if (rb == 1) {
                AttentionLoops.values1(sc.logits, k.values(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, sc.out);
            } else {
                AttentionLoops.values(sc.logits, k.values(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, sc.out);
            }
        }
        MemorySegment os = c.out().seg();
        for (int r = 0; r < rb; r++) {
            MemorySegment.copy(sc.out, r * nd, os, CpuTensor.F32, c.outAt(t0 + r), nd);
        }
    }
}
