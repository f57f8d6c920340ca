package io.dcformer4j.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.backend.cuda.launch.Launch;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code dynamicWeightsFromProjection} through the whole backend (checks, scratch, launch plan and the kernels'
 * own source) on the CPU emulator of {@code src/test/emu}: the finish of a projection computed on the host must
 * be {@code dynamicWeights} of the input it came from, up to the projection's summation order. The kernel-level
 * comparison is in emu_test.cpp; this one covers what the host side adds. Skipped where g++ is not installed.
 */
class EmulatedDynamicWeightsTest {
    private static final int E = 40;
    private static final int N = 4;
    private static final int RANK = 2;
    private static final int K = 16;
    private static final int COLS = 4 * K + 4 * N;

    private static CountingDevice device;
    private static CudaBackend backend;

    /** The emulator with a launch count, so that a call that should launch nothing can be seen to. */
    private static final class CountingDevice implements Device {
        private final Device inner;
        final List<String> launched = new ArrayList<>();

        CountingDevice(Device inner) {
            this.inner = inner;
        }

        @Override
        public String description() {
            return inner.description();
        }

        @Override
        public void makeCurrent() {
            inner.makeCurrent();
        }

        @Override
        public long allocate(long bytes) {
            return inner.allocate(bytes);
        }

        @Override
        public void free(long address) {
            inner.free(address);
        }

        @Override
        public void upload(long base, long offset, ByteBuffer data) {
            inner.upload(base, offset, data);
        }

        @Override
        public void download(long base, long offset, byte[] data) {
            inner.download(base, offset, data);
        }

        @Override
        public void copy(long dstBase, long dstOffset, long srcBase, long srcOffset, long bytes) {
            inner.copy(dstBase, dstOffset, srcBase, srcOffset, bytes);
        }

        @Override
        public void launch(Launch launch, boolean sync) {
            launched.add(launch.kernel().name());
            inner.launch(launch, sync);
        }

        @Override
        public void synchronize() {
            inner.synchronize();
        }
    }

    @BeforeAll
    static void buildTheEmulator() throws Exception {
        assumeTrue(Gpp.installed(), "g++ is not installed");
        // a folder of its own: KernelEmulationTest builds emu_test into target/emu
        Path out = Path.of("target/emu-lib").toAbsolutePath();
        Process p = new ProcessBuilder("bash", "src/test/emu/run-emu.sh", "--lib", out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("run-emu.sh --lib finished; log:\n" + log).isTrue();
        assertThat(p.exitValue()).as("run-emu.sh --lib exit status; log:\n" + log).isZero();
        device = new CountingDevice(EmulatedDevice.load(out.resolve("libcudaemu.so")));
        backend = new CudaBackend(BackendOptions.defaults(), device, true);
    }

    @AfterAll
    static void closeTheBackend() {
        if (backend != null) {
            backend.close();
        }
    }

    private static float[] normal(Random r, int count, double scale) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (r.nextGaussian() * scale);
        }
        return v;
    }

    private static void fromProjectionEqualsDynamicWeights(DType dtype, int t, long seed) {
        Random r = new Random(seed);
        float[] aValues = normal(r, t * E, 1.0);
        try (Tensor a = backend.fromFloats(DType.F32, Shape.of(t, E), aValues, "a");
             Tensor dw1 = backend.fromFloats(dtype, Shape.of(E, 1, 4, K), normal(r, E * 4 * K, 1.5 / Math.sqrt(E)), "dw1");
             Tensor qkw = backend.fromFloats(dtype, Shape.of(1, 4, K, 2 * RANK, N), normal(r, 4 * K * 2 * RANK * N,
                     1.5 / Math.sqrt(K)), "qkw");
             Tensor dd = backend.fromFloats(dtype, Shape.of(E, 1, 4 * N), normal(r, E * 4 * N, 1.0 / Math.sqrt(E)), "dd");
             Tensor direct = backend.allocate(DType.F32, Shape.of(t, 4, 2 * RANK + 1, N), "direct");
             Tensor finished = backend.allocate(DType.F32, Shape.of(t, 4, 2 * RANK + 1, N), "finished")) {
            // the projection a · [dw1 | dd] in double from the weights as stored, rounded to F32 once
            float[] w1 = dw1.toFloatArray();
            float[] wd = dd.toFloatArray();
            float[] proj = new float[t * COLS];
            for (int row = 0; row < t; row++) {
                for (int j = 0; j < COLS; j++) {
                    double s = 0;
                    for (int e = 0; e < E; e++) {
                        s += (double) aValues[row * E + e] * (j < 4 * K ? w1[e * 4 * K + j] : wd[e * 4 * N + j - 4 * K]);
                    }
                    proj[row * COLS + j] = (float) s;
                }
            }
            DynamicWeightParams params = new DynamicWeightParams(dw1, qkw, dd, N, RANK);
            backend.dynamicWeights(a, params, direct);
            try (Tensor projected = backend.fromFloats(DType.F32, Shape.of(t, COLS), proj, "projected")) {
                device.launched.clear();
                backend.dynamicWeightsFromProjection(projected, params, finished);
                assertThat(device.launched).containsExactly("dw_activate", "dw_weights");
            }
            float[] want = direct.toFloatArray();
            float[] got = finished.toFloatArray();
            double maxRef = 1e-30;
            double maxErr = 0;
            for (int i = 0; i < want.length; i++) {
                assertThat(got[i]).as("element %d of %s T = %d", i, dtype, t).isFinite();
                maxRef = Math.max(maxRef, Math.abs(want[i]));
                maxErr = Math.max(maxErr, Math.abs((double) got[i] - want[i]));
            }
            assertThat(maxErr / maxRef).as("max |fromProjection − dynamicWeights| / max |dynamicWeights|, %s weights, T = %d",
                    dtype, t).isLessThanOrEqualTo(2e-5);
        }
    }

    @Test
    void theFinishOfAHostProjectionIsDynamicWeightsOfItsInput() {
        fromProjectionEqualsDynamicWeights(DType.F32, 1, 11);
        fromProjectionEqualsDynamicWeights(DType.F32, 3, 12);
        fromProjectionEqualsDynamicWeights(DType.BF16, 3, 13);
    }

    @Test
    void noTokensLaunchNothing() {
        try (Tensor dw1 = backend.allocate(DType.F32, Shape.of(E, 1, 4, K), "dw1");
             Tensor qkw = backend.allocate(DType.F32, Shape.of(1, 4, K, 2 * RANK, N), "qkw");
             Tensor dd = backend.allocate(DType.F32, Shape.of(E, 1, 4 * N), "dd");
             Tensor projected = backend.allocate(DType.F32, Shape.of(0, COLS), "projected");
             Tensor out = backend.allocate(DType.F32, Shape.of(0, 4, 2 * RANK + 1, N), "out")) {
            device.launched.clear();
            backend.dynamicWeightsFromProjection(projected, new DynamicWeightParams(dw1, qkw, dd, N, RANK), out);
            assertThat(device.launched).isEmpty();
        }
    }
}
