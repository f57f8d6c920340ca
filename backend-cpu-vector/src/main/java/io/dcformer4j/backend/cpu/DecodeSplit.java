package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * One decode row with its keys split across the pool: each worker computes logits and pre-compose for a range
 * of keys into the caller's scratch, the caller softmaxes each head over all keys, then each worker
 * post-composes its range and accumulates its part of P'·V, and the caller adds the parts.
 */
final class DecodeSplit {
    private DecodeSplit() {
    }

    /**
     * Splits the keys for {@code threads} workers and runs the pieces with {@code loop}; the floats depend on
     * {@code threads} only, not on which thread runs a piece.
     */
    static void run(AttentionKernel.Call c, int threads, AttentionKernel.Loop loop,
                    ThreadLocal<AttentionKernel.Scratch> scratch) {
        AttentionSpec spec = c.spec();
        int n = spec.numHeads();
        int d = spec.headDim();
        int nd = n * d;
        int rank = spec.rank();
        int p = c.start();
        int lo = spec.firstVisibleKey(p, false);
        int s = p - lo + 1;
        int sp = (s + L - 1) / L * L;
        AttentionKernel.Scratch sc = scratch.get();
        sc.ensure(n, d, sp, Math.max(rank, 1));
        int pieces = AttentionKernel.pieces(c, lo, p, sc);
        KeyPiece[] all = sc.pieces;
        MemorySegment.copy(c.q().seg(), CpuTensor.F32, c.qAt(0), sc.q, 0, nd);
        float[] lg = sc.logits;
        float[] q = sc.q;
        int units = sp / L;
        int chunks = Math.min(threads, Math.max(1, s / AttentionKernel.DECODE_SPLIT_KEYS));
        int grain = (units + chunks - 1) / chunks;
        if (sc.partial.length < chunks * nd) {
            sc.partial = new float[chunks * nd];
        }
        float[] partial = sc.partial;
        float scale = (float) (1.0 / Math.sqrt(d));
        boolean compose = spec.mode() != AttentionMode.PLAIN_MHA;
        loop.run(units, grain, (u0, u1) -> {
            AttentionKernel.Scratch ws = scratch.get();
            ws.ensure(n, d, L, Math.max(rank, 1));
            int sub = clip(all, pieces, u0 * L, Math.min(s, u1 * L), ws);
            for (int pc = 0; pc < sub; pc++) {
                KeyPiece k = ws.subPieces[pc];
                AttentionLoops.logits1(q, k.keys(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, scale, lg);
            }
            if (compose) {
                ComposeLoop.compose(c, lg, ws, ws.subPieces, sub, 0, 1, ComposeLoop.Stage.PRE, sp);
            }
        });
        for (int h = 0; h < n; h++) {
            RowKernels.softmaxInPlace(lg, h * sp, s);
        }
        loop.run(units, grain, (u0, u1) -> {
            AttentionKernel.Scratch ws = scratch.get();
            ws.ensure(n, d, L, Math.max(rank, 1));
            int sub = clip(all, pieces, u0 * L, Math.min(s, u1 * L), ws);
            if (compose) {
                ComposeLoop.compose(c, lg, ws, ws.subPieces, sub, 0, 1, ComposeLoop.Stage.POST, sp);
            }
            int part = u0 / grain;
            Arrays.fill(partial, part * nd, (part + 1) * nd, 0f);
            Arrays.fill(ws.out, 0, nd, 0f);
            for (int pc = 0; pc < sub; pc++) {
                KeyPiece k = ws.subPieces[pc];
                AttentionLoops.values1(lg, k.values(), k.stride(), k.col(), k.first(), k.count(), n, d, sp, ws.out);
            }
            System.arraycopy(ws.out, 0, partial, part * nd, nd);
        });
        float[] out = sc.out;
        Arrays.fill(out, 0, nd, 0f);
        for (int part = 0; part < chunks; part++) {
            for (int x = 0; x < nd; x++) {
                out[x] += partial[part * nd + x];
            }
        }
        MemorySegment.copy(out, 0, c.out().seg(), CpuTensor.F32, c.outAt(0), nd);
    }

    /**
     * The parts of {@code pieces[0 .. count)} that fall in key indices [a, b), into the worker's {@code subPieces}
     * (grown when needed); returns how many.
     */
    private static int clip(KeyPiece[] pieces, int count, int a, int b, AttentionKernel.Scratch ws) {
        if (ws.subPieces.length < count) {
            ws.subPieces = new KeyPiece[count];
        }
        KeyPiece[] out = ws.subPieces;
        int np = 0;
        for (int pc = 0; pc < count; pc++) {
            KeyPiece part = pieces[pc].clip(a, b);
            if (part != null) {
                out[np++] = part;
            }
        }
        return np;
    }
}
