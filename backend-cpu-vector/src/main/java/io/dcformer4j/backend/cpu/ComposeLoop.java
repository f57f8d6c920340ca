package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.FS;
import static io.dcformer4j.backend.cpu.Vec.L;
import static io.dcformer4j.backend.cpu.Vec.LE;

/**
 * Pre- and post-compose of a block's logits or probabilities in place (spec §2.3, in the factorised form):
 * for every key column and row, with the row's query-side factors (slot 0 before softmax, slot 2 after) and,
 * for DCMHA, the key's key-side factors (slot 1, slot 3):
 * <pre>
 *   out[m] = α[m]·(1 + dgq[m] + dgk[m]) + Σ_i hq_i·w2q[i, m] + Σ_i hk_i·w2k[i, m] (+ Σ_n α[n]·S[n, m])
 *   hq_i = Σ_n w1q[i, n]·α[n],  hk_i = Σ_n w1k[i, n]·α[n]
 * </pre>
 * The vector loop takes L keys at a time; its scalar twin computes the same sums one key at a time in the same
 * order (with {@link Math#fma}), for JVMs where the Vector API is slow and to check the vector loop. The system
 * property {@value #SCALAR_PROPERTY}{@code =true} forces the scalar twin.
 */
final class ComposeLoop {
    /** System property that forces the scalar compose loop. */
    static final String SCALAR_PROPERTY = "dcformer4j.cpu.scalarCompose";
    private static final boolean SCALAR = Boolean.getBoolean(SCALAR_PROPERTY);

    /** Which compose: the query slot of the dynamic weights it reads, and its static weight. */
    enum Stage {
        /** Before softmax: query slot 0, key slot 1, static {@code pre_proj}. */
        PRE(0),
        /** After softmax: query slot 2, key slot 3, static {@code post_proj}. */
        POST(2);

        final int querySlot;

        Stage(int querySlot) {
            this.querySlot = querySlot;
        }

        /** The key-side part (0: slot 1, 1: slot 3) of the cached factors. */
        int keyPart() {
            return querySlot / 2;
        }

        float[] staticWeights(AttentionKernel.Call c) {
            return this == PRE ? c.staticPre() : c.staticPost();
        }
    }

    private ComposeLoop() {
    }

    /** Whether {@link #compose} runs the scalar twin. */
    static boolean scalar() {
        return SCALAR;
    }

    /**
     * Composes the key columns of {@code pieces[0 .. count)} for rows t0 .. t0+rb−1 of the call, in
     * {@code lg} [R, N, sp], by the loop the system property selects.
     */
    static void compose(AttentionKernel.Call c, float[] lg, AttentionKernel.Scratch sc, KeyPiece[] pieces, int count,
                        int t0, int rb, Stage stage, int sp) {
        if (SCALAR) {
            scalar(c, lg, sc, pieces, count, t0, rb, stage, sp);
        } else {
            vector(c, lg, sc, pieces, count, t0, rb, stage, sp);
        }
    }

    /** Copies the query-side factors of the block's rows for this stage into {@code sc.query} [rb, 2I+1, N]. */
    private static void loadQueryFactors(AttentionKernel.Call c, AttentionKernel.Scratch sc, int t0, int rb, Stage stage,
                                         int slotFloats) {
        for (int r = 0; r < rb; r++) {
            MemorySegment.copy(c.dyn().seg(), CpuTensor.F32, c.dynAt(t0 + r, stage.querySlot), sc.query, r * slotFloats,
                    slotFloats);
        }
    }

    /**
     * The vector loop: L keys at a time, the block's rows one after another for each key vector, so a key's
     * factors are read from memory once per block and from L1 for the other rows.
     */
    static void vector(AttentionKernel.Call c, float[] lg, AttentionKernel.Scratch sc, KeyPiece[] pieces, int count,
                       int t0, int rb, Stage stage, int sp) {
        int n = c.spec().numHeads();
        int rank = c.spec().rank();
        int slotFloats = (2 * rank + 1) * n;
        loadQueryFactors(c, sc, t0, rb, stage, slotFloats);
        float[] qfs = sc.query;
        float[] sw = stage.staticWeights(c);
        boolean keySide = c.spec().mode() == AttentionMode.DCMHA;
        float[] alpha = sc.alpha;
        float[] low = sc.low;
        for (int pc = 0; pc < count; pc++) {
            KeyPiece piece = pieces[pc];
            MemorySegment ks = piece.keySide();
            int stride = piece.stride();
            int keys = piece.count();
            int ksBase = stage.keyPart() * slotFloats * stride + piece.col();
            for (int j = 0; j < keys; j += L) {
                // loads may run past the piece into padding or the next row (lanes discarded); stores may not
                boolean tail = j + L > keys;
                VectorMask<Float> m = FS.indexInRange(j, keys);
                for (int r = 0; r < rb; r++) {
                    int at = r * n * sp + piece.first() + j;
                    int qo = r * slotFloats;
                    for (int h = 0; h < n; h++) {
                        FloatVector.fromArray(FS, lg, at + h * sp).intoArray(alpha, h * L);
                    }
                    for (int i = 0; i < rank; i++) {
                        FloatVector hq = FloatVector.zero(FS);
                        for (int h = 0; h < n; h++) {
                            hq = FloatVector.broadcast(FS, qfs[qo + i * n + h]).fma(FloatVector.fromArray(FS, alpha, h * L), hq);
                        }
                        hq.intoArray(low, i * L);
                        if (keySide) {
                            FloatVector hk = FloatVector.zero(FS);
                            int kb = ksBase + i * n * stride + j;
                            for (int h = 0; h < n; h++) {
                                hk = FloatVector.fromMemorySegment(FS, ks, 4L * (kb + h * stride), LE).fma(FloatVector.fromArray(FS, alpha, h * L), hk);
                            }
                            hk.intoArray(low, (rank + i) * L);
                        }
                    }
                    for (int o = 0; o < n; o++) {
                        FloatVector a = FloatVector.fromArray(FS, alpha, o * L);
                        FloatVector y = a.mul(1f + qfs[qo + 2 * rank * n + o]);
                        if (keySide) {
                            y = a.fma(FloatVector.fromMemorySegment(FS, ks, 4L * (ksBase + (2 * rank * n + o) * stride + j), LE), y);
                        }
                        for (int i = 0; i < rank; i++) {
                            y = FloatVector.fromArray(FS, low, i * L).fma(FloatVector.broadcast(FS, qfs[qo + (rank + i) * n + o]), y);
                            if (keySide) {
                                y = FloatVector.fromArray(FS, low, (rank + i) * L)
                                        .fma(FloatVector.fromMemorySegment(FS, ks, 4L * (ksBase + ((rank + i) * n + o) * stride + j), LE), y);
                            }
                        }
                        if (sw != null) {
                            for (int h = 0; h < n; h++) {
                                y = FloatVector.fromArray(FS, alpha, h * L).fma(FloatVector.broadcast(FS, sw[h * n + o]), y);
                            }
                        }
                        if (tail) {
                            y.intoArray(lg, at + o * sp, m);
                        } else {
                            y.intoArray(lg, at + o * sp);
                        }
                    }
                }
            }
        }
    }

    /** The scalar twin of {@link #vector}: one key at a time, the same sums in the same order. */
    static void scalar(AttentionKernel.Call c, float[] lg, AttentionKernel.Scratch sc, KeyPiece[] pieces, int count,
                       int t0, int rb, Stage stage, int sp) {
        int n = c.spec().numHeads();
        int rank = c.spec().rank();
        int slotFloats = (2 * rank + 1) * n;
        loadQueryFactors(c, sc, t0, rb, stage, slotFloats);
        float[] qfs = sc.query;
        float[] sw = stage.staticWeights(c);
        boolean keySide = c.spec().mode() == AttentionMode.DCMHA;
        float[] alpha = new float[n];          // [N] one key column of one row
        float[] low = new float[2 * rank];     // hq_0..hq_{I−1}, hk_0..hk_{I−1}
        for (int pc = 0; pc < count; pc++) {
            KeyPiece piece = pieces[pc];
            MemorySegment ks = piece.keySide();
            int stride = piece.stride();
            int ksBase = stage.keyPart() * slotFloats * stride + piece.col();
            for (int j = 0; j < piece.count(); j++) {
                for (int r = 0; r < rb; r++) {
                    int at = r * n * sp + piece.first() + j;
                    int qo = r * slotFloats;
                    for (int h = 0; h < n; h++) {
                        alpha[h] = lg[at + h * sp];
                    }
                    for (int i = 0; i < rank; i++) {
                        float hq = 0f;
                        for (int h = 0; h < n; h++) {
                            hq = Math.fma(qfs[qo + i * n + h], alpha[h], hq);
                        }
                        low[i] = hq;
                        if (keySide) {
                            float hk = 0f;
                            int kb = ksBase + i * n * stride + j;
                            for (int h = 0; h < n; h++) {
                                hk = Math.fma(ks.get(CpuTensor.F32, 4L * (kb + h * stride)), alpha[h], hk);
                            }
                            low[rank + i] = hk;
                        }
                    }
                    for (int o = 0; o < n; o++) {
                        float a = alpha[o];
                        float y = a * (1f + qfs[qo + 2 * rank * n + o]);
                        if (keySide) {
                            y = Math.fma(a, ks.get(CpuTensor.F32, 4L * (ksBase + (2 * rank * n + o) * stride + j)), y);
                        }
                        for (int i = 0; i < rank; i++) {
                            y = Math.fma(low[i], qfs[qo + (rank + i) * n + o], y);
                            if (keySide) {
                                y = Math.fma(low[rank + i], ks.get(CpuTensor.F32, 4L * (ksBase + ((rank + i) * n + o) * stride + j)), y);
                            }
                        }
                        if (sw != null) {
                            for (int h = 0; h < n; h++) {
                                y = Math.fma(alpha[h], sw[h * n + o], y);
                            }
                        }
                        lg[at + o * sp] = y;
                    }
                }
            }
        }
    }
}
