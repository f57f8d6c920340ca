package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tensor lifecycle, views, referenced weights, bookkeeping and argument validation. */
class StorageTest {
    private Backend backend;

    @BeforeEach
    void open() {
        backend = new CpuBackendProvider().open(BackendOptions.withThreads(2));
    }

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void closingTwiceOrUsingAClosedTensorNamesIt() {
        Tensor t = backend.allocate(DType.F32, Shape.of(2, 3), "scratch.x");
        Tensor view = backend.view(t, Shape.of(6));
        t.close();
        assertThat(t.isClosed()).isTrue();
        assertThat(view.isClosed()).isTrue();
        assertThatThrownBy(t::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("scratch.x")
                .hasMessageNotContaining("views");
        assertThatThrownBy(t::toFloatArray).isInstanceOf(IllegalStateException.class).hasMessageContaining("scratch.x");
        try (Tensor out = backend.allocate(DType.F32, Shape.of(6), "out")) {
            assertThatThrownBy(() -> backend.gelu(view, out)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("gelu").hasMessageContaining("scratch.x");
        }
        assertThatThrownBy(view::close).isInstanceOf(IllegalStateException.class).hasMessageContaining("scratch.x")
                .hasMessageContaining("the tensor it views was closed");
        assertThatThrownBy(view::toFloatArray).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the tensor it views was closed");
    }

    @Test
    void anotherBackendsTensorIsRejected() {
        try (Backend other = new CpuBackendProvider().open(BackendOptions.withThreads(1));
             Tensor foreign = other.allocate(DType.F32, Shape.of(4), "foreign.x");
             Tensor out = backend.allocate(DType.F32, Shape.of(4), "out")) {
            assertThatThrownBy(() -> backend.softmax(foreign, out)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("foreign.x").hasMessageContaining("another backend");
        }
    }

    @Test
    void viewsAndSlicesShareStorage() {
        try (Tensor t = backend.fromFloats(DType.F32, Shape.of(3, 2), new float[] {1, 2, 3, 4, 5, 6}, "t")) {
            Tensor rows = backend.slice(t, 1, 3);
            assertThat(rows.shape()).isEqualTo(Shape.of(2, 2));
            assertThat(rows.toFloatArray()).containsExactly(3, 4, 5, 6);
            rows.copyFrom(new float[] {-3, -4, -5, -6});
            assertThat(t.toFloatArray()).containsExactly(1, 2, -3, -4, -5, -6);
            Tensor flat = backend.view(t, Shape.of(6));
            assertThat(flat.toFloatArray()).containsExactly(1, 2, -3, -4, -5, -6);
            assertThat(backend.liveTensors()).isEqualTo(1);
            assertThatThrownBy(() -> backend.slice(t, 2, 4)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'t'");
            assertThatThrownBy(() -> backend.view(t, Shape.of(5))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'t'");
            flat.close();
            assertThat(t.isClosed()).isFalse();
        }
    }

    @Test
    void weightsReferenceTheCallersMemoryWithoutCopying() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment seg = arena.allocate(4 * 4);
            Tensor w = backend.weights(DType.F32, Shape.of(2, 2), seg, "layers.0.w");
            assertThat(backend.liveTensors()).isEqualTo(1);
            assertThat(backend.liveBytes()).isZero();
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 3, 7.5f);
            assertThat(w.toFloatArray()).containsExactly(0, 0, 0, 7.5f);
            assertThatThrownBy(() -> backend.weights(DType.BF16, Shape.of(3, 2), seg, "bad.w"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bad.w");
            w.close();
            assertThat(backend.liveTensors()).isZero();
        }
    }

    @Test
    void weightsInAThreadConfinedSegmentAreRejectedWithTheReason() {
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment seg = confined.allocate(16);
            assertThatThrownBy(() -> backend.weights(DType.F32, Shape.of(4), seg, "confined.w"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("confined.w")
                    .hasMessageContaining("confined to one thread");
        }
    }

    @Test
    void liveCountsFollowAllocationsAndCaches() {
        Tensor a = backend.allocate(DType.F32, Shape.of(10), "a");
        Tensor b = backend.allocate(DType.BF16, Shape.of(10), "b");
        KvCache c = backend.allocateKvCache(new KvCacheSpec(8, 2, 4, 2, true));
        // a new cache holds no page
        assertThat(backend.liveTensors()).isEqualTo(3);
        assertThat(backend.liveBytes()).isEqualTo(40 + 20);
        assertThat(c.bytes()).isZero();
        // once a position is stored it holds one page of min(capacity, PAGE) slots: keys and values, key-side
        // factors, a vector of padding
        long cacheBytes = 4L * 8 * 2 * 4 * 2 + 4L * 8 * 2 * 5 * 2 + 4L * Vec.L;
        assertThat(c.bytesFor(1)).isEqualTo(cacheBytes);
        assertThat(((CpuKvCache) c).ensure(1)).isEqualTo(cacheBytes);
        assertThat(c.bytes()).isEqualTo(cacheBytes);
        c.close();
        assertThatThrownBy(c::close).isInstanceOf(IllegalStateException.class);
        a.close();
        b.close();
        assertThat(backend.liveTensors()).isZero();
        assertThat(backend.liveBytes()).isZero();
    }

    @Test
    void validationNamesOperationTensorAndExpectedShape() {
        try (Tensor x = backend.allocate(DType.F32, Shape.of(2, 5), "x.in");
             Tensor w = backend.allocate(DType.BF16, Shape.of(3, 4), "wq.weight");
             Tensor out = backend.allocate(DType.F32, Shape.of(2, 3), "y")) {
            assertThatThrownBy(() -> backend.linear(x, w, null, out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("linear").hasMessageContaining("x.in").hasMessageContaining("[T, 4]");
            try (Tensor row = backend.allocate(DType.F32, Shape.of(1, 4), "row")) {
                assertThatThrownBy(() -> backend.embedding(w, new int[] {3}, row)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("embedding").hasMessageContaining("token id 3");
            }
            assertThatThrownBy(() -> backend.add(x, out, out)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("add").hasMessageContaining("[2, 5]");
        }
    }

    @Test
    void attentionRejectsTooSmallCaches() {
        int n = 2;
        int d = 4;
        try (Tensor q = backend.allocate(DType.F32, Shape.of(3, n * d), "q");
             Tensor o = backend.allocate(DType.F32, Shape.of(3, n * d), "o");
             KvCache global = backend.allocateKvCache(new KvCacheSpec(2, n, d, 2, false));
             KvCache ring = backend.allocateKvCache(new KvCacheSpec(3, n, d, 2, false))) {
            AttentionSpec g = AttentionSpec.of(AttentionMode.PLAIN_MHA, n, d, 0, 0);
            assertThatThrownBy(() -> backend.attentionPrefill(q, q, q, null, global, g, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity 2");
            AttentionSpec local = AttentionSpec.of(AttentionMode.PLAIN_MHA, n, d, 0, 4);
            assertThatThrownBy(() -> backend.attentionPrefill(q, q, q, null, ring, local, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("window 4");
            AttentionSpec dc = AttentionSpec.of(AttentionMode.DCMHA, n, d, 2, 0);
            assertThatThrownBy(() -> backend.attentionPrefill(q, q, q, null, ring, dc, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dyn");
            assertThatThrownBy(() -> backend.attentionDecode(q, q, q, null, ring, g, o))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one row");
        }
    }
}
