package io.dcformer4j.backend.cpu;

import java.lang.foreign.SegmentAllocator;
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
     * {@code arena}: keys [N·D, T], values [N, T, D], factors [2·(2I+1)·N, T] plus padding.
     */
    static KeyBlock of(SegmentAllocator memory, CpuTensor k, CpuTensor v, CpuTensor dyn, int t, int n, int d, int rank,
                       boolean keySide) {
        int nd = n * d;
        int slotFloats = (2 * rank + 1) * n;
        KeyBlock block = KeyBlock.allocate(memory, nd, keySide ? 2 * slotFloats : 0, t);
        // copied segment to segment: a prefill leaves no garbage on the Java heap
        MemorySegment ksrc = k.seg();
        MemorySegment keys = block.keys();
        for (int i = 0; i < t; i++) {
            long src = k.offset + 4L * i * nd;
            for (int x = 0; x < nd; x++) {
                keys.set(CpuTensor.F32, 4L * ((long) x * t + i), ksrc.get(CpuTensor.F32, src + 4L * x));
            }
        }
        MemorySegment vs = v.seg();
        MemorySegment values = block.values();
        for (int m = 0; m < n; m++) {
            for (int i = 0; i < t; i++) {
                MemorySegment.copy(vs, v.offset + 4L * ((long) i * nd + (long) m * d), values, 4L * ((long) m * t + i) * d,
                        4L * d);
            }
        }
        if (keySide) {
            MemorySegment ds = dyn.seg();
            MemorySegment factors = block.keySide();   // the padding stays zero
            for (int i = 0; i < t; i++) {
                for (int part = 0; part < 2; part++) {
                    long src = dyn.offset + 4L * ((long) i * 4 + 1 + 2 * part) * slotFloats;
                    for (int x = 0; x < slotFloats; x++) {
                        factors.set(CpuTensor.F32, 4L * ((long) (part * slotFloats + x) * t + i),
                                ds.get(CpuTensor.F32, src + 4L * x));
                    }
                }
            }
        }
        return block;
    }
}
