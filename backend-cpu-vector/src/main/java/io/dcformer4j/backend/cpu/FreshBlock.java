package io.dcformer4j.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A prefill call's own keys, values and key-side factors, copied into a {@link KeyBlock} of T columns so that
 * the attention loops read them as they read the cache's pages; they are appended to the cache only after every
 * query of the call has attended.
 */
final class FreshBlock {
    private FreshBlock() {
    }

    /**
     * Copies T rows of k, v and (with {@code keySide}) the key-side slots of dyn into a block allocated from
     * {@code arena}: keys [N·D, T], values [T, N·D], factors [2·(2I+1)·N, T] plus padding.
     */
    static KeyBlock of(Arena arena, CpuTensor k, CpuTensor v, CpuTensor dyn, int t, int n, int d, int rank,
                       boolean keySide) {
        int nd = n * d;
        int slotFloats = (2 * rank + 1) * n;
        KeyBlock block = KeyBlock.allocate(arena, nd, keySide ? 2 * slotFloats : 0, t);
        float[] rows = new float[t * nd];                    // [T, N·D]
        MemorySegment.copy(k.seg(), CpuTensor.F32, k.offset, rows, 0, rows.length);
        float[] kt = new float[nd * t];                      // [N·D, T]
        for (int i = 0; i < t; i++) {
            for (int x = 0; x < nd; x++) {
                kt[x * t + i] = rows[i * nd + x];
            }
        }
        MemorySegment.copy(kt, 0, block.keys(), CpuTensor.F32, 0, kt.length);
        MemorySegment.copy(v.seg(), v.offset, block.values(), 0, 4L * t * nd);
        if (keySide) {
            float[] dynRows = new float[t * 4 * slotFloats];  // [T, 4, 2I+1, N]
            MemorySegment.copy(dyn.seg(), CpuTensor.F32, dyn.offset, dynRows, 0, dynRows.length);
            float[] ks = new float[2 * slotFloats * t];      // [2·(2I+1)·N, T]; the padding stays zero
            for (int i = 0; i < t; i++) {
                for (int part = 0; part < 2; part++) {
                    int src = (i * 4 + 1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        ks[(part * slotFloats + x) * t + i] = dynRows[src + x];
                    }
                }
            }
            MemorySegment.copy(ks, 0, block.keySide(), CpuTensor.F32, 0, ks.length);
        }
        return block;
    }
}
