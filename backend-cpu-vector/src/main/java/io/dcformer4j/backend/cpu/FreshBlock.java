package io.dcformer4j.backend.cpu;

import java.lang.foreign.MemorySegment;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * A prefill call's own keys, values and key-side factors, copied so that the attention loops read them as
 * they read the cache (keys and factors transposed, a vector holding consecutive keys); they are appended to
 * the ring only after every query of the call has attended.
 *
 * @param keysT    the keys, transposed [N·D, T]
 * @param values   the values [T, N·D]
 * @param keySideT slots 1 and 3 of the dynamic weights, transposed [2·(2I+1)·N, T] plus one vector of padding;
 *                 {@code null} unless the mode is DCMHA
 */
record FreshBlock(float[] keysT, float[] values, float[] keySideT) {

    /** Copies T rows of k, v and (with {@code keySide}) the key-side slots of dyn. */
    static FreshBlock of(CpuTensor k, CpuTensor v, CpuTensor dyn, int t, int n, int d, int rank, boolean keySide) {
        int nd = n * d;
        float[] rows = new float[t * nd];                    // [T, N·D]
        MemorySegment.copy(k.seg(), CpuTensor.F32, k.offset, rows, 0, rows.length);
        float[] kt = new float[nd * t];                      // [N·D, T]
        for (int i = 0; i < t; i++) {
            for (int x = 0; x < nd; x++) {
                kt[x * t + i] = rows[i * nd + x];
            }
        }
        float[] vals = new float[t * nd];                    // [T, N·D]
        MemorySegment.copy(v.seg(), CpuTensor.F32, v.offset, vals, 0, vals.length);
        float[] ks = null;
        if (keySide) {
            int slotFloats = (2 * rank + 1) * n;
            float[] dynRows = new float[t * 4 * slotFloats];  // [T, 4, 2I+1, N]
            MemorySegment.copy(dyn.seg(), CpuTensor.F32, dyn.offset, dynRows, 0, dynRows.length);
            ks = new float[2 * slotFloats * t + L];          // [2·(2I+1)·N, T] + one vector of padding
            for (int i = 0; i < t; i++) {
                for (int part = 0; part < 2; part++) {
                    int src = (i * 4 + 1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        ks[(part * slotFloats + x) * t + i] = dynRows[src + x];
                    }
                }
            }
        }
        return new FreshBlock(kt, vals, ks);
    }
}
