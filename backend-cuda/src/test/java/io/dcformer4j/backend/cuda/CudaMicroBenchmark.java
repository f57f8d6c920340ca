package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GPU micro-benchmarks for {@code tools/gpu-check.sh}: device copy bandwidth, BF16 GEMV and tensor-core
 * GEMM, the fused attention kernels (DCMHA against plain MHA), and decode of a DCFormer-2.8B-shaped model
 * (E 2560, N 32, D 80, F 6912, V 50257, even layers local with W 256) with random BF16 weights, against
 * the bandwidth floor (weight bytes per token ÷ measured copy bandwidth). One layer's weights are shared by
 * all layers (each larger than the L2 cache, so nothing is served from cache across layers); every layer
 * has its own caches. Times are medians of wall-clock times taken after a device synchronisation.
 *
 * <p>Usage: {@code CudaMicroBenchmark [summary-file] | --describe}; system properties {@code bench.layers} (32),
 * {@code bench.context} (512), {@code bench.tokens} (16).
 */
public final class CudaMicroBenchmark {
    /** {@code -Dbench.tiny=true}: the golden tiny model's shapes, to smoke-test this program (on the emulator). */
    private static final boolean TINY = Boolean.getBoolean("bench.tiny");
    private static final int E = TINY ? 64 : 2560;
    private static final int N = TINY ? 4 : 32;
    private static final int D = E / N;
    private static final int F = TINY ? 160 : 6912;
    private static final int V = TINY ? 97 : 50257;
    private static final int RANK = 2;
    private static final int K = 4 * N;
    private static final int WINDOW = TINY ? 8 : 256;
    private static final int COPY_FLOATS = TINY ? 1 << 16 : 1 << 28;
    private static final int PREFILL_ROWS = TINY ? 40 : 1024;

    private final CudaBackend b;
    private final Arena arena = Arena.ofShared();
    private final SplittableRandom random = new SplittableRandom(42);
    private final List<String[]> rows = new ArrayList<>();

    private CudaMicroBenchmark(CudaBackend b) {
        this.b = b;
    }

    /**
     * Runs every benchmark and prints (and optionally writes) the summary table; with {@code --describe} only
     * prints every provider's availability and exits with 0 when cuda is available, 3 when not.
     */
    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("--describe")) {
            System.out.println(io.dcformer4j.api.Backends.describe());
            System.exit(new CudaBackendProvider().availability().available() ? 0 : 3);
        }
        int layers = Integer.getInteger("bench.layers", 32);
        int context = Integer.getInteger("bench.context", 512);
        int tokens = Integer.getInteger("bench.tokens", 16);
        CudaBackend backend = (CudaBackend) new CudaBackendProvider().open(BackendOptions.defaults());
        CudaMicroBenchmark m = new CudaMicroBenchmark(backend);
        System.out.println("# " + backend.description());
        try {
            double copyGBs = m.copyBandwidth();
            m.gemv();
            m.gemm();
            m.attention(AttentionMode.DCMHA);
            m.attention(AttentionMode.PLAIN_MHA);
            Model model = m.model();
            double dcmha;
            double plain;
            try {
                dcmha = m.decodeModel(model, AttentionMode.DCMHA, layers, context, tokens, copyGBs);
                plain = m.decodeModel(model, AttentionMode.PLAIN_MHA, layers, context, tokens, copyGBs);
            } finally {
                model.close();
            }
            m.row("decode DCMHA overhead over plain MHA", String.format(Locale.ROOT, "%.1f %%", 100 * (dcmha / plain - 1)),
                    "target ≤ 10 %");
        } finally {
            backend.close();
        }
        StringBuilder sb = new StringBuilder("| benchmark | result | note |\n|---|---|---|\n");
        for (String[] r : m.rows) {
            sb.append("| ").append(r[0]).append(" | ").append(r[1]).append(" | ").append(r[2]).append(" |\n");
        }
        System.out.print(sb);
        if (args.length > 0) {
            Files.writeString(Path.of(args[0]), "# " + backend.description() + "\n\n" + sb);
        }
    }

    private void row(String name, String result, String note) {
        rows.add(new String[] {name, result, note});
        System.out.println(name + ": " + result + (note.isEmpty() ? "" : " (" + note + ")"));
    }

    private interface Body {
        void run();
    }

    /** Median seconds of {@code reps} runs after {@code warmup} runs, each ended by a device synchronisation. */
    private double time(int warmup, int reps, Body body) {
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        b.synchronize();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            body.run();
            b.synchronize();
            t[i] = (System.nanoTime() - t0) * 1e-9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    private Tensor randomWeights(DType dtype, int rows, int cols, String label) {
        return randomWeights(dtype, rows, cols, Shape.of(rows, cols), label);
    }

    /** Uniform random weights scaled by 1/sqrt(cols), stored with {@code shape} (rows × cols elements). */
    private Tensor randomWeights(DType dtype, int rows, int cols, Shape shape, String label) {
        long n = (long) rows * cols;
        MemorySegment seg = arena.allocate(n * dtype.byteSize(), 16);
        float scale = (float) (1.0 / Math.sqrt(cols));
        for (long i = 0; i < n; i++) {
            float v = (float) (random.nextDouble() * 2 - 1) * scale;
            if (dtype == DType.BF16) {
                seg.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * i, Numerics.floatToBf16(v));
            } else {
                seg.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i, v);
            }
        }
        return b.weights(dtype, shape, seg, label);
    }

    private Tensor randomActivations(int rows, int cols, String label) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return b.fromFloats(DType.F32, Shape.of(rows, cols), v, label);
    }

    private double copyBandwidth() {
        int n = COPY_FLOATS;  // 1 GiB of F32 (256 KiB with bench.tiny)
        try (Tensor src = b.allocate(DType.F32, Shape.of(n), "copy-src");
             Tensor dst = b.allocate(DType.F32, Shape.of(n), "copy-dst")) {
            double s = time(2, 9, () -> b.copy(src, dst));
            double gbs = 2.0 * 4 * n / s / 1e9;
            row("device copy bandwidth (read + write)", String.format(Locale.ROOT, "%.0f GB/s", gbs),
                    (4L * n >> 20) + " MiB F32 copy");
            return gbs;
        }
    }

    private void gemv() {
        for (int[] s : new int[][] {{3 * E, E}, {F, E}, {E, F}}) {
            try (Tensor w = randomWeights(DType.BF16, s[0], s[1], "w");
                 Tensor x = randomActivations(1, s[1], "x");
                 Tensor y = b.allocate(DType.F32, Shape.of(1, s[0]), "y")) {
                double t = time(5, 51, () -> b.linear(x, w, null, y));
                double gbs = 2.0 * s[0] * s[1] / t / 1e9;
                row("GEMV BF16 " + s[0] + "x" + s[1], String.format(Locale.ROOT, "%.1f us, %.0f GB/s", t * 1e6, gbs),
                        "weight bytes / time");
            }
        }
    }

    private void gemm() {
        int m = PREFILL_ROWS;
        try (Tensor w = randomWeights(DType.BF16, F, E, "w");
             Tensor x = randomActivations(m, E, "x");
             Tensor y = b.allocate(DType.F32, Shape.of(m, F), "y")) {
            double t = time(3, 11, () -> b.linear(x, w, null, y));
            row("GEMM BF16 tensor-core " + m + "x" + F + "x" + E,
                    String.format(Locale.ROOT, "%.2f ms, %.1f TFLOP/s", t * 1e3, 2.0 * m * F * E / t / 1e12),
                    "F32 activations as 3 bf16 terms: 3 mma per product");
        }
    }

    private Tensor dynamicFor(int t) {
        float[] v = new float[t * 4 * (2 * RANK + 1) * N];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextDouble() - 0.5) * 0.5f;
        }
        return b.fromFloats(DType.F32, Shape.of(t, 4, 2 * RANK + 1, N), v, "dyn");
    }

    private void attention(AttentionMode mode) {
        int t = PREFILL_ROWS;
        AttentionSpec spec = AttentionSpec.of(mode, N, D, RANK, 0);
        boolean dcmha = mode != AttentionMode.PLAIN_MHA;
        try (Tensor q = randomActivations(t, N * D, "q");
             Tensor k = randomActivations(t, N * D, "k");
             Tensor v = randomActivations(t, N * D, "v");
             Tensor dyn = dcmha ? dynamicFor(t) : null;
             Tensor o = b.allocate(DType.F32, Shape.of(t, N * D), "o")) {
            KvCacheSpec cs = new KvCacheSpec(2 * t + 64, N, D, RANK, mode == AttentionMode.DCMHA);
            double prefill = time(1, 5, () -> {
                try (KvCache c = b.allocateKvCache(cs)) {
                    b.attentionPrefill(q, k, v, dyn, c, spec, o);
                }
            });
            row("fused attention prefill " + mode + ", T=" + t + ", global", String.format(Locale.ROOT, "%.2f ms",
                    prefill * 1e3), "two-pass, N x T x S never stored");
            double unfused = time(1, 5, () -> b.attentionUnfused(q, k, v, dyn, spec, o));
            row("unfused attention prefill " + mode + ", T=" + t + ", global", String.format(Locale.ROOT,
                    "%.2f ms (fused takes %.0f %% of it)", unfused * 1e3, 100 * prefill / unfused),
                    "N x T x T scores in device memory, one pass per stage");
            try (KvCache c = b.allocateKvCache(cs);
                 Tensor q1 = b.slice(q, 0, 1); Tensor k1 = b.slice(k, 0, 1); Tensor v1 = b.slice(v, 0, 1);
                 Tensor dyn1 = dcmha ? b.slice(dyn, 0, 1) : null; Tensor o1 = b.slice(o, 0, 1)) {
                b.attentionPrefill(q, k, v, dyn, c, spec, o);
                b.attentionPrefill(q, k, v, dyn, c, spec, o);
                double dec = time(5, 41, () -> b.attentionDecode(q1, k1, v1, dyn1, c, spec, o1));
                row("fused attention decode " + mode + ", context ~" + (2 * t), String.format(Locale.ROOT, "%.1f us",
                        dec * 1e6), "split over keys, 4 launches");
            }
        }
    }

    /** One layer's weights (shared by all layers of the benchmark model). */
    private record Layer(Tensor attnNorm, Tensor ffnNorm, Tensor qNorm, Tensor kNorm, Tensor wq, Tensor wk, Tensor wv,
                         Tensor wo, Tensor w1, Tensor w3, Tensor w2, DynamicWeightParams dyn) {
        /** Weight bytes a DCMHA decode step reads per layer. */
        long bytes() {
            return mhaBytes() + size(dyn.dw1()) + size(dyn.qkw()) + size(dyn.dd());
        }

        /** Weight bytes a plain-MHA decode step reads per layer (no dynamic-weight parameters). */
        long mhaBytes() {
            long n = 0;
            for (Tensor t : List.of(wq, wk, wv, wo, w1, w3, w2)) {
                n += size(t);
            }
            return n;
        }

        private static long size(Tensor t) {
            return t.shape().numel() * t.dtype().byteSize();
        }

        void close() {
            for (Tensor t : List.of(attnNorm, ffnNorm, qNorm, kNorm, wq, wk, wv, wo, w1, w3, w2, dyn.dw1(), dyn.qkw(), dyn.dd())) {
                t.close();
            }
        }
    }

    private Tensor ones(int n, String label) {
        float[] v = new float[n];
        Arrays.fill(v, 1f);
        return b.fromFloats(DType.F32, Shape.of(n), v, label);
    }

    private Layer layer() {
        Tensor dw1 = randomWeights(DType.BF16, E, 4 * K, Shape.of(E, 1, 4, K), "dw1");
        Tensor qkw = randomWeights(DType.BF16, 4 * K, 2 * RANK * N, Shape.of(1, 4, K, 2 * RANK, N), "qkw");
        Tensor dd = randomWeights(DType.BF16, E, 4 * N, Shape.of(E, 1, 4 * N), "dd");
        return new Layer(ones(E, "attn_norm"), ones(E, "ffn_norm"), ones(D, "q_norm"), ones(D, "k_norm"),
                randomWeights(DType.BF16, E, E, "wq"), randomWeights(DType.BF16, E, E, "wk"),
                randomWeights(DType.BF16, E, E, "wv"), randomWeights(DType.BF16, E, E, "wo"),
                randomWeights(DType.BF16, F, E, "w1"), randomWeights(DType.BF16, F, E, "w3"),
                randomWeights(DType.BF16, E, F, "w2"), new DynamicWeightParams(dw1, qkw, dd, N, RANK));
    }

    /** Activation buffers for T tokens. */
    private final class Acts implements AutoCloseable {
        final Tensor x;
        final Tensor a;
        final Tensor q;
        final Tensor k;
        final Tensor v;
        final Tensor o;
        final Tensor y;
        final Tensor g;
        final Tensor u;
        final Tensor dyn;

        Acts(int t) {
            x = b.allocate(DType.F32, Shape.of(t, E), "x");
            a = b.allocate(DType.F32, Shape.of(t, E), "a");
            q = b.allocate(DType.F32, Shape.of(t, E), "q");
            k = b.allocate(DType.F32, Shape.of(t, E), "k");
            v = b.allocate(DType.F32, Shape.of(t, E), "v");
            o = b.allocate(DType.F32, Shape.of(t, E), "o");
            y = b.allocate(DType.F32, Shape.of(t, E), "y");
            g = b.allocate(DType.F32, Shape.of(t, F), "g");
            u = b.allocate(DType.F32, Shape.of(t, F), "u");
            dyn = b.allocate(DType.F32, Shape.of(t, 4, 2 * RANK + 1, N), "dyn");
        }

        @Override
        public void close() {
            for (Tensor t : List.of(x, a, q, k, v, o, y, g, u, dyn)) {
                t.close();
            }
        }
    }

    private void forward(Layer w, Acts s, KvCache cache, AttentionSpec spec, RopeSpec rope, boolean decode) {
        int pos = cache.length();
        b.rmsNorm(s.x, w.attnNorm(), 1e-6f, s.a);
        b.linear(s.a, w.wq(), null, s.q);
        b.linear(s.a, w.wk(), null, s.k);
        b.linear(s.a, w.wv(), null, s.v);
        b.rmsNorm(s.q, w.qNorm(), 1e-6f, s.q);
        b.rmsNorm(s.k, w.kNorm(), 1e-6f, s.k);
        b.rope(s.q, pos, rope, s.q);
        b.rope(s.k, pos, rope, s.k);
        Tensor dyn = null;
        if (spec.mode() != AttentionMode.PLAIN_MHA) {
            b.dynamicWeights(s.a, w.dyn(), s.dyn);
            dyn = s.dyn;
        }
        if (decode) {
            b.attentionDecode(s.q, s.k, s.v, dyn, cache, spec, s.o);
        } else {
            b.attentionPrefill(s.q, s.k, s.v, dyn, cache, spec, s.o);
        }
        b.linear(s.o, w.wo(), null, s.y);
        b.add(s.x, s.y, s.x);
        b.rmsNorm(s.x, w.ffnNorm(), 1e-6f, s.a);
        b.linear(s.a, w.w1(), null, s.g);
        b.linear(s.a, w.w3(), null, s.u);
        b.swiglu(s.g, s.u, s.g);
        b.linear(s.g, w.w2(), null, s.y);
        b.add(s.x, s.y, s.x);
    }

    /** The benchmark model's weights: one layer shared by every layer, embedding, head, final norm. */
    private record Model(Layer layer, Tensor embed, Tensor head, Tensor finalNorm) {
        void close() {
            layer.close();
            embed.close();
            head.close();
            finalNorm.close();
        }
    }

    private Model model() {
        return new Model(layer(), randomWeights(DType.BF16, V, E, "tok_embeddings"), randomWeights(DType.BF16, V, E, "output"),
                ones(E, "norm"));
    }

    /** Decode tokens/s of the 2.8B-shaped model after a prompt of {@code context} tokens; returns s/token. */
    private double decodeModel(Model model, AttentionMode mode, int layers, int context, int tokens, double copyGBs) {
        Layer w = model.layer();
        Tensor embed = model.embed();
        Tensor head = model.head();
        Tensor finalNorm = model.finalNorm();
        RopeSpec rope = new RopeSpec(D, D, 10000);
        List<KvCache> caches = new ArrayList<>();
        List<AttentionSpec> specs = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            boolean local = l % 2 == 0;
            specs.add(AttentionSpec.of(mode, N, D, RANK, local ? WINDOW : 0));
            caches.add(b.allocateKvCache(new KvCacheSpec(local ? WINDOW : context + tokens + 8, N, D, RANK,
                    mode == AttentionMode.DCMHA)));
        }
        int[] prompt = random.ints(context, 0, V).toArray();
        double prefillSeconds;
        double[] perToken = new double[tokens];
        try (Acts p = new Acts(context); Acts d = new Acts(1);
             Tensor logits = b.allocate(DType.F32, Shape.of(1, V), "logits");
             Tensor hn = b.allocate(DType.F32, Shape.of(1, E), "hn")) {
            b.synchronize();
            long t0 = System.nanoTime();
            b.embedding(embed, prompt, p.x);
            for (int l = 0; l < layers; l++) {
                forward(w, p, caches.get(l), specs.get(l), rope, false);
            }
            b.synchronize();
            prefillSeconds = (System.nanoTime() - t0) * 1e-9;
            int token = 1;
            for (int i = 0; i < tokens; i++) {
                long s0 = System.nanoTime();
                b.embedding(embed, new int[] {token}, d.x);
                for (int l = 0; l < layers; l++) {
                    forward(w, d, caches.get(l), specs.get(l), rope, true);
                }
                b.rmsNorm(d.x, finalNorm, 1e-6f, hn);
                b.linear(hn, head, null, logits);
                float[] lg = logits.toFloatArray();
                perToken[i] = (System.nanoTime() - s0) * 1e-9;
                token = Math.floorMod(Float.floatToIntBits(lg[0]), V);
            }
        } finally {
            caches.forEach(KvCache::close);
        }
        double[] sorted = perToken.clone();
        Arrays.sort(sorted);
        double s = sorted[tokens / 2];
        long weightBytes = layers * (mode == AttentionMode.PLAIN_MHA ? w.mhaBytes() : w.bytes()) + (long) V * E * 2;
        double floor = weightBytes / (copyGBs * 1e9);
        row("prefill " + mode + " " + layers + " layers, " + context + " tokens",
                String.format(Locale.ROOT, "%.0f ms, %.0f tokens/s", prefillSeconds * 1e3, context / prefillSeconds), "");
        row("decode " + mode + " " + layers + " layers at context " + context,
                String.format(Locale.ROOT, "%.2f ms/token, %.1f tokens/s, %.0f %% of the bandwidth floor", s * 1e3, 1 / s,
                        100 * floor / s),
                String.format(Locale.ROOT, "floor %.2f ms = %.2f GB weights / %.0f GB/s copy bandwidth; target ≥ 70 %%",
                        floor * 1e3, weightBytes / 1e9, copyGBs));
        return s;
    }
}
