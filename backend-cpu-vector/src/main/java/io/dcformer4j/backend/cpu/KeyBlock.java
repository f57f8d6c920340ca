package io.dcformer4j.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

import static io.dcformer4j.backend.cpu.Vec.L;

/**
 * Keys, values and DCMHA key-side factors of a run of key slots, stored alike wherever they come from (a page of
 * a {@link CpuKvCache}, or a prefill call's own rows): keys and factors transposed so that a vector holds
 * consecutive keys, values head-major so that one head's values of consecutive keys are one contiguous run (the
 * decode loop reads them front to back with that head's outputs in registers). Column {@code c} of the block is one
 * key.
 *
 * @param keys    [N·D][stride]
 * @param values  [N][stride][D]
 * @param keySide slots 1 and 3 of the dynamic weights, [2·(2I+1)·N][stride] plus one vector of padding (compose
 *                loads whole vectors past a row's last column and discards those lanes); {@code null} when none
 *                are kept
 * @param stride  columns per transposed row
 */
record KeyBlock(MemorySegment keys, MemorySegment values, MemorySegment keySide, int stride) {

    /** Bytes of a block of {@code stride} columns: keys, values and (for {@code keySideRows > 0}) factors with padding. */
    static long bytes(int nd, int keySideRows, int stride) {
        return 4L * (2L * nd * stride + (keySideRows == 0 ? 0 : (long) keySideRows * stride + L));
    }

    /** A block of {@code stride} columns in one allocation from {@code memory}, zeroed. */
    static KeyBlock allocate(SegmentAllocator memory, int nd, int keySideRows, int stride) {
        MemorySegment all = memory.allocate(bytes(nd, keySideRows, stride), 64);
        long kv = 4L * nd * stride;
        MemorySegment ks = keySideRows == 0 ? null : all.asSlice(2 * kv);
        return new KeyBlock(all.asSlice(0, kv), all.asSlice(kv, kv), ks, stride);
    }
}
