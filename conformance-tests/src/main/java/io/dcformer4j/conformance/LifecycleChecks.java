package io.dcformer4j.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Test;

/** Closing, use after close, mixing backends, and leaks over many open/close cycles. */
abstract class LifecycleChecks extends Checks {

    @Test
    void tensorCloseTwiceFails() {
        Tensor t = backend().allocate(DType.F32, Shape.of(2, 3), "twice");
        assertThat(t.isClosed()).isFalse();
        t.close();
        assertThat(t.isClosed()).isTrue();
        assertThatThrownBy(t::close).as("closing tensor 'twice' a second time").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("twice");
    }

    @Test
    void tensorUseAfterCloseFails() {
        Tensor a = tck().f32(new float[] {1, 2, 3}, "a", 3);
        Tensor closed = backend().allocate(DType.F32, Shape.of(3), "gone");
        closed.close();
        assertThatThrownBy(closed::toFloatArray).as("toFloatArray of a closed tensor").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gone");
        assertThatThrownBy(() -> closed.copyFrom(new float[3])).as("copyFrom into a closed tensor")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("gone");
        assertThatThrownBy(() -> backend().add(a, closed, a)).as("add with a closed input").isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gone");
        assertThatThrownBy(() -> backend().add(a, a, closed)).as("add into a closed output").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> backend().softmax(closed, a)).as("softmax of a closed tensor").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void hostCopyErrorsNameTheTensorAndTheCounts() {
        Tensor f = tck().own(backend().allocate(DType.F32, Shape.of(2, 3), "dst"));
        assertThatThrownBy(() -> f.copyFrom(new float[5])).as("copyFrom of 5 values into a [2, 3] tensor")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst").hasMessageContaining("5")
                .hasMessageContaining("6");
        assertThatThrownBy(() -> f.copyFrom(new int[6])).as("copyFrom(int[]) into an F32 tensor")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst");
        assertThatThrownBy(f::toIntArray).as("toIntArray of an F32 tensor")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dst");
        Tensor ids = tck().own(backend().allocate(DType.I32, Shape.of(4), "ids"));
        assertThatThrownBy(() -> ids.copyFrom(new float[4])).as("copyFrom(float[]) into an I32 tensor")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ids");
        assertThatThrownBy(() -> ids.copyFrom(new int[3])).as("copyFrom of 3 ints into a [4] tensor")
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ids").hasMessageContaining("3");
    }

    @Test
    void viewOfClosedTensorFails() {
        Tensor parent = backend().allocate(DType.F32, Shape.of(4, 2), "parent");
        Tensor view = backend().view(parent, Shape.of(8));
        Tensor rows = backend().slice(parent, 1, 3);
        parent.close();
        assertThat(view.isClosed()).as("view of a closed tensor reports closed").isTrue();
        assertThat(rows.isClosed()).as("slice of a closed tensor reports closed").isTrue();
        assertThatThrownBy(view::toFloatArray).as("reading a view of a closed tensor").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(rows::toFloatArray).as("reading a slice of a closed tensor").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void tensorOfAnotherBackendFails() {
        Backend other = tck().open(1);
        Tensor mine = tck().f32(new float[] {1, 2}, "mine", 2);
        Tensor theirs = tck().tensor(other, DType.F32, new float[] {3, 4}, "theirs", 2);
        Tensor out = tck().zeros("out", 2);
        assertThatThrownBy(() -> backend().add(mine, theirs, out)).as("add with a tensor of another backend instance")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> backend().copy(theirs, out)).as("copy from a tensor of another backend instance")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> backend().linear(tck().f32(new float[] {1, 2}, "x", 1, 2),
                tck().tensor(other, DType.F32, new float[] {1, 2}, "w", 1, 2), null, tck().zeros("y", 1, 1)))
                .as("linear with weights of another backend instance").isInstanceOf(IllegalStateException.class);
        KvCache theirCache = tck().own(other.allocateKvCache(new KvCacheSpec(4, 1, 2, 1, true)));
        AttentionSpec spec = AttentionSpec.of(AttentionMode.DCMHA, 1, 2, 1, 0);
        Tensor qkv = tck().f32(new float[] {1, 2}, "qkv", 1, 2);
        Tensor dyn = tck().zeros("dyn", 1, 4, 3, 1);
        assertThatThrownBy(() -> backend().attentionDecode(qkv, qkv, qkv, dyn, theirCache, spec, tck().zeros("o", 1, 2)))
                .as("attention with a cache of another backend instance").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void backendUseAfterCloseFails() {
        Backend b = tck().openUnmanaged(1);
        b.close();
        assertThatThrownBy(() -> b.allocate(DType.F32, Shape.of(2), "late")).as("allocate on a closed backend")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.fromFloats(DType.F32, Shape.of(2), new float[2], "late")).as("fromFloats on a closed backend")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.allocateKvCache(new KvCacheSpec(4, 1, 4, 1, true))).as("allocateKvCache on a closed backend")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void kvCacheCloseTwiceFails() {
        KvCache cache = backend().allocateKvCache(new KvCacheSpec(8, 2, 4, 1, true));
        assertThat(cache.length()).isZero();
        cache.close();
        assertThatThrownBy(cache::close).as("closing a cache twice").isInstanceOf(IllegalStateException.class);
    }

    @Test
    void liveTensorsAndBytesTrackAllocations() {
        Backend b = tck().open(1);
        assertThat(b.liveTensors()).as("liveTensors of a fresh backend").isZero();
        assertThat(b.liveBytes()).as("liveBytes of a fresh backend").isZero();
        Tensor x = b.allocate(DType.F32, Shape.of(10, 100), "x");
        Tensor w = b.fromFloats(DType.BF16, Shape.of(100), new float[100], "w");
        Tensor view = b.view(x, Shape.of(1000));
        assertThat(view.shape().numel()).isEqualTo(1000);
        assertThat(b.liveTensors()).as("liveTensors after two allocations and a view (views are not counted)").isEqualTo(2);
        assertThat(b.liveBytes()).as("liveBytes with 4000 + 200 bytes allocated").isGreaterThanOrEqualTo(4200);
        KvCache cache = b.allocateKvCache(new KvCacheSpec(16, 2, 8, 2, true));
        assertThat(b.liveTensors()).as("liveTensors after allocating a cache").isGreaterThan(2);
        cache.close();
        x.close();
        w.close();
        assertThat(b.liveTensors()).as("liveTensors after closing everything").isZero();
        assertThat(b.liveBytes()).as("liveBytes after closing everything").isZero();
    }

    @Test
    void openAndClose1000TimesLeaksNothing() throws InterruptedException {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Backend warm = tck().openUnmanaged(2);
        warm.close();
        int before = threads.getThreadCount();
        for (int i = 0; i < 1000; i++) {
            Backend b = tck().openUnmanaged(2);
            try {
                Tensor x = b.fromFloats(DType.F32, Shape.of(4, 16), new float[64], "x");
                Tensor w = b.fromFloats(DType.F32, Shape.of(8, 16), new float[128], "w");
                Tensor y = b.allocate(DType.F32, Shape.of(4, 8), "y");
                b.linear(x, w, null, y);
                KvCache cache = b.allocateKvCache(new KvCacheSpec(4, 2, 4, 1, true));
                cache.close();
                y.close();
                w.close();
                x.close();
                if (b.liveTensors() != 0 || b.liveBytes() != 0) {
                    throw new AssertionError("cycle " + i + ": after closing every tensor, liveTensors() = " + b.liveTensors()
                            + ", liveBytes() = " + b.liveBytes() + " (expected 0, 0)");
                }
            } finally {
                b.close();
            }
        }
        // Worker threads may take a moment to exit after close(); a leak of 1000 cycles never settles.
        int after = threads.getThreadCount();
        for (int wait = 0; wait < 100 && after > before + 2; wait++) {
            Thread.sleep(50);
            after = threads.getThreadCount();
        }
        assertThat(after).as("live JVM threads after 1000 open/close cycles (before: " + before + ")").isLessThanOrEqualTo(before + 2);
    }
}
