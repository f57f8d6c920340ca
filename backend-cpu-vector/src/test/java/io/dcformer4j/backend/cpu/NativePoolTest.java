package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NativePoolTest {
    @Test
    void aReusedBlockComesBackZeroedAndExactlyAsLongAsAsked() {
        NativePool.Block a = NativePool.take(1000);
        a.segment().fill((byte) 7);
        long address = a.whole().address();
        NativePool.give(a);
        // the same size class hands the block out again; whoever gets it sees zeros, and only the bytes asked for
        NativePool.Block b = NativePool.take(1000);
        try {
            assertThat(b.segment().byteSize()).isEqualTo(1000);
            assertThat(b.whole().address()).isEqualTo(address);
            for (long i = 0; i < 1000; i++) {
                assertThat(b.segment().get(ValueLayout.JAVA_BYTE, i)).isZero();
            }
        } finally {
            NativePool.give(b);
        }
    }

    @Test
    void largeBlocksAreFreedAtOnceAndIdleBytesStayBounded() {
        NativePool.Block big = NativePool.take(NativePool.MAX_BLOCK + 1);
        NativePool.give(big);
        assertThat(big.arena().scope().isAlive()).as("a block above the pooled size is freed on give").isFalse();
        List<NativePool.Block> many = new ArrayList<>();
        for (int i = 0; i < 2 * NativePool.MAX_IDLE / NativePool.MAX_BLOCK; i++) {
            many.add(NativePool.take(NativePool.MAX_BLOCK));
        }
        many.forEach(NativePool::give);
        assertThat(NativePool.idleBytes()).isLessThanOrEqualTo(NativePool.MAX_IDLE);
        assertThat(many.stream().filter(b -> !b.arena().scope().isAlive()).count())
                .as("blocks past the idle limit are freed").isGreaterThanOrEqualTo(many.size() / 2);
    }

    @Test
    void aTensorClosedTwiceGivesItsMemoryBackOnce() {
        try (Backend b = new CpuBackendProvider().open(BackendOptions.withThreads(1))) {
            Tensor t = b.allocate(DType.F32, Shape.of(3, 5), "t");
            MemorySegment first = ((CpuTensor) t).seg();
            t.close();
            assertThatThrownBy(t::close).isInstanceOf(IllegalStateException.class);
            // two tensors of the same size now get different memory: a block given back twice would be shared
            try (Tensor u = b.allocate(DType.F32, Shape.of(3, 5), "u");
                 Tensor v = b.allocate(DType.F32, Shape.of(3, 5), "v")) {
                assertThat(((CpuTensor) u).seg().address()).isNotEqualTo(((CpuTensor) v).seg().address());
                assertThat(first.byteSize()).isEqualTo(60);
            }
        }
    }
}
