package io.dcformer4j.backend.cpu;

import static io.dcformer4j.backend.cpu.TestData.assertClose;
import static io.dcformer4j.backend.cpu.TestData.random;
import static io.dcformer4j.backend.cpu.TestData.toDouble;
import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.Arena;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The scalar twin of the compose loop against the vector loop, on a block whose keys span a run of ring slots
 * and the fresh block, with static weights, for both compose stages.
 */
class ComposeLoopTest {

    @ParameterizedTest
    @EnumSource(value = AttentionMode.class, names = {"DCMHA", "QUERY_WISE"})
    void scalarTwinMatchesTheVectorLoop(AttentionMode mode) {
        int n = 3;
        int d = 4;
        int rank = 2;
        int cached = CpuKvCache.PAGE + 8;
        int t = 5;
        Random rnd = new Random(42 + mode.ordinal());
        try (CpuBackend b = (CpuBackend) new CpuBackendProvider().open(BackendOptions.withThreads(1))) {
            int nd = n * d;
            int per = 4 * (2 * rank + 1) * n;
            AttentionSpec spec = new AttentionSpec(mode, n, d, rank, 0, false, null, null);
            try (Tensor q0 = b.fromFloats(DType.F32, Shape.of(cached, nd), random(rnd, cached * nd, 1f), "q0");
                 Tensor dyn0 = b.fromFloats(DType.F32, Shape.of(cached, per), random(rnd, cached * per, 0.5f), "dyn0");
                 Tensor o0 = b.allocate(DType.F32, Shape.of(cached, nd), "o0");
                 Tensor k = b.fromFloats(DType.F32, Shape.of(t, nd), random(rnd, t * nd, 1f), "k");
                 Tensor v = b.fromFloats(DType.F32, Shape.of(t, nd), random(rnd, t * nd, 1f), "v");
                 Tensor dyn = b.fromFloats(DType.F32, Shape.of(t, per), random(rnd, t * per, 0.5f), "dyn");
                 CpuKvCache cache = (CpuKvCache) b.allocateKvCache(new KvCacheSpec(2 * CpuKvCache.PAGE + 16, n, d, rank, mode.usesKeySide()));
                 Arena arena = Arena.ofShared()) {
                b.attentionPrefill(q0, q0, q0, dyn0, cache, spec, o0);   // fills the first page and 8 slots of the second
                float[] pre = random(rnd, n * n, 0.3f);
                float[] post = random(rnd, n * n, 0.3f);
                AttentionKernel.Call call = new AttentionKernel.Call((CpuTensor) k, (CpuTensor) dyn, cache, spec, null, t,
                        cached, pre, post, FreshBlock.of(arena, (CpuTensor) k, (CpuTensor) v, (CpuTensor) dyn, t, n, d, rank,
                        mode.usesKeySide()), 0);
                int hi = cached + AttentionKernel.R - 1;
                AttentionKernel.Scratch pieceScratch = new AttentionKernel.Scratch();
                int count = AttentionKernel.pieces(call, 0, hi, pieceScratch);
                KeyPiece[] pieces = pieceScratch.pieces;
                assertThat(count).as("two cache pages and the fresh block").isEqualTo(3);
                int s = hi + 1;
                int sp = (s + Vec.L - 1) / Vec.L * Vec.L;
                float[] logits = random(rnd, AttentionKernel.R * n * sp + Vec.L, 2f);
                for (ComposeLoop.Stage stage : ComposeLoop.Stage.values()) {
                    float[] viaVector = logits.clone();
                    float[] viaScalar = logits.clone();
                    AttentionKernel.Scratch sc = new AttentionKernel.Scratch();
                    sc.ensure(n, d, sp, rank);
                    ComposeLoop.vector(call, viaVector, sc, pieces, count, 0, AttentionKernel.R, stage, sp);
                    ComposeLoop.scalar(call, viaScalar, sc, pieces, count, 0, AttentionKernel.R, stage, sp);
                    assertClose(mode + " " + stage + " compose, scalar against vector", viaScalar, toDouble(viaVector),
                            1e-6, 1e-6);
                    assertThat(viaScalar).as("compose changed the logits").isNotEqualTo(logits);
                }
            }
        }
    }
}
