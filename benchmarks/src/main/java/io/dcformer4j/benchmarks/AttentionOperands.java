package io.dcformer4j.benchmarks;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;

/** q, k, v, dynamic weights and output of one attention call over T tokens. */
final class AttentionOperands implements AutoCloseable {
    final Tensor q;
    final Tensor k;
    final Tensor v;
    final Tensor dyn;
    final Tensor out;

    AttentionOperands(Backend b, AttentionSpec spec, int tokens, long seed) {
        int width = spec.numHeads() * spec.headDim();
        q = Fixtures.random(b, DType.F32, Shape.of(tokens, width), 1, seed, "q"); // [T, N·D]
        k = Fixtures.random(b, DType.F32, Shape.of(tokens, width), 1, seed + 1, "k"); // [T, N·D]
        v = Fixtures.random(b, DType.F32, Shape.of(tokens, width), 1, seed + 2, "v"); // [T, N·D]
        dyn = spec.mode() == AttentionMode.PLAIN_MHA ? null
                : Fixtures.random(b, DType.F32, Shape.of(tokens, 4, 2 * spec.rank() + 1, spec.numHeads()), 0.3, seed + 3,
                        "dyn"); // [T, 4, 2I+1, N]
        out = b.allocate(DType.F32, Shape.of(tokens, width), "out"); // [T, N·D]
    }

    @Override
    public void close() {
        out.close();
        if (dyn != null) {
            dyn.close();
        }
        v.close();
        k.close();
        q.close();
    }
}
