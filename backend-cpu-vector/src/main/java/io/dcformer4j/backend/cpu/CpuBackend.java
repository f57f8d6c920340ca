package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BatchChecks;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.OpChecks;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Vector API CPU backend. Tensors live in native memory (weights may reference a caller's memory
 * segment, such as a memory-mapped checkpoint, without copying); operations are split into row ranges
 * run on a fixed {@link WorkerPool} together with the calling thread. Per-thread scratch makes concurrent
 * calls from several sessions safe.
 */
public final class CpuBackend implements Backend {
    private static final int ELEMENTWISE_GRAIN = 4096;

    private final BackendOptions options;
    private final WorkerPool pool;
    private final AtomicLong liveTensors = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    /** RoPE inverse frequencies per spec: computed once, not on every decode step of every layer. */
    private final Map<RopeSpec, float[]> invFreqs = new ConcurrentHashMap<>();
    private final ThreadLocal<AttentionKernel.Scratch> attentionScratch =
            ThreadLocal.withInitial(AttentionKernel.Scratch::new);
    private final ThreadLocal<LinearKernel.Buffers> linearScratch = ThreadLocal.withInitial(LinearKernel.Buffers::new);
    private final ThreadLocal<RowGemv.Buffers> rowGemvScratch = ThreadLocal.withInitial(RowGemv.Buffers::new);
    private final ThreadLocal<DynamicWeightsKernel.Buffers> dynamicScratch =
            ThreadLocal.withInitial(DynamicWeightsKernel.Buffers::new);
    private volatile boolean closed;

    CpuBackend(BackendOptions options) {
        this.options = options;
        this.pool = new WorkerPool(options.resolvedThreads(), "dcformer4j-cpu");
    }

    @Override
    public String name() {
        return CpuBackendProvider.NAME;
    }

    @Override
    public String description() {
        return "CPU, Java Vector API " + VectorProbe.describe() + ", " + pool.threads() + " worker threads";
    }

    @Override
    public BackendOptions options() {
        return options;
    }

    WorkerPool pool() {
        return pool;
    }

    // ---------------------------------------------------------------- storage

    @Override
    public Tensor allocate(DType dtype, Shape shape, String label) {
        checkOpenBackend("allocate");
        long bytes = OpChecks.allocate(dtype, shape, label);
        CpuTensor t = new CpuTensor(this, Storage.allocate(bytes), 0, shape, dtype, label, false);
        registered(bytes);
        return t;
    }

    @Override
    public Tensor fromFloats(DType dtype, Shape shape, float[] values, String label) {
        checkOpenBackend("fromFloats");
        OpChecks.fromFloats(dtype, shape, values, label);
        Tensor t = allocate(dtype, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor fromInts(Shape shape, int[] values, String label) {
        checkOpenBackend("fromInts");
        OpChecks.fromInts(shape, values, label);
        Tensor t = allocate(DType.I32, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor weights(DType dtype, Shape shape, MemorySegment data, String label) {
        checkOpenBackend("weights");
        OpChecks.weights(dtype, shape, data, label);
        Thread worker = pool.anyWorker();
        if (worker != null && !data.isAccessibleBy(worker)) {
            throw new IllegalArgumentException("weights: the segment of tensor '" + label + "' is confined to one thread; "
                    + "the cpu backend reads weights from its worker threads, so map or allocate it in a shared, "
                    + "automatic or global arena");
        }
        CpuTensor t = new CpuTensor(this, Storage.external(data), 0, shape, dtype, label, false);
        registered(0);
        return t;
    }

    /** Every dtype, Q8_0 included (as {@code linear} weights, widened by {@link Q8Loops}). */
    @Override
    public boolean supportsWeights(DType dtype) {
        return true;
    }

    @Override
    public Tensor view(Tensor tensor, Shape shape) {
        OpChecks.view(tensor, shape);
        CpuTensor t = own("view", "tensor", tensor);
        return new CpuTensor(this, t.storage, t.offset, shape, t.dtype(), t.label(), true);
    }

    @Override
    public Tensor slice(Tensor tensor, int start, int end) {
        OpChecks.ViewSizes v = OpChecks.slice(tensor, start, end);
        CpuTensor t = own("slice", "tensor", tensor);
        long off = t.offset + t.dtype().bytesFor(v.firstElement());
        return new CpuTensor(this, t.storage, off, v.shape(), t.dtype(), t.label(), true);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long n = OpChecks.copy(src, dst);
        CpuTensor s = own("copy", "src", src);
        CpuTensor d = own("copy", "dst", dst);
        if (s.dtype() == d.dtype()) {
            MemorySegment.copy(s.seg(), s.offset, d.seg(), d.offset, s.dtype().bytesFor(n));
        } else if (d.dtype() == DType.F32) {
            parallelElements(n, (a, b) -> {
                float[] buf = new float[Math.min(4096, b - a)];
                for (int i = a; i < b; i += buf.length) {
                    int m = Math.min(buf.length, b - i);
                    s.readFloats(i, buf, m);
                    MemorySegment.copy(buf, 0, d.seg(), CpuTensor.F32, d.offset + 4L * i, m);
                }
            });
        } else {
            for (long i = 0; i < n; i++) {
                d.setFloat(i, s.getFloat(i));
            }
        }
    }

    // ---------------------------------------------------------------- operations

    @Override
    public void embedding(Tensor table, int[] tokens, Tensor out) {
        String op = "embedding";
        int e = OpChecks.embedding(table, tokens, out).width();
        CpuTensor w = own(op, "table", table);
        CpuTensor o = own(op, "out", out);
        long rowBytes = (long) e * w.dtype().byteSize();
        if (w.dtype() == DType.F32) {
            for (int t = 0; t < tokens.length; t++) {
                MemorySegment.copy(w.seg(), w.offset + tokens[t] * rowBytes, o.seg(), o.offset + 4L * t * e, rowBytes);
            }
            return;
        }
        pool.parallelFor(tokens.length, 1, (a, b) -> {
            float[] row = new float[e];
            for (int t = a; t < b; t++) {
                w.readFloats((long) tokens[t] * e, row, e);
                MemorySegment.copy(row, 0, o.seg(), CpuTensor.F32, o.offset + 4L * t * e, e);
            }
        });
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        String op = "linear";
        OpChecks.LinearSizes s = OpChecks.linear(x, w, bias, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor wt = own(op, "w", w);
        CpuTensor bt = bias == null ? null : own(op, "bias", bias);
        CpuTensor ot = own(op, "out", out);
        requireDistinct(op, xt, ot);
        if (s.rows() <= RowGemv.MAX_ROWS) {
            // decode rows (one sequence or a batch): each row's result independent of how many rows there are
            RowGemv.run(pool, rowGemvScratch, xt, wt, bt, ot, s.rows(), s.in(), s.out());
        } else {
            LinearKernel.run(pool, linearScratch, xt, wt, bt, ot, s.rows(), s.in(), s.out());
        }
    }

    @Override
    public void linears(Tensor x, List<Tensor> weights, List<Tensor> biases, List<Tensor> outs) {
        String op = "linears";
        List<OpChecks.LinearSizes> sizes = OpChecks.linears(x, weights, biases, outs);
        int rows = sizes.get(0).rows();
        int n = weights.size();
        if (rows > RowGemv.MAX_ROWS || n == 1) {
            // a prompt's GEMMs are long enough that one pass per weight costs nothing measurable
            for (int j = 0; j < n; j++) {
                linear(x, weights.get(j), biases == null ? null : biases.get(j), outs.get(j));
            }
            return;
        }
        CpuTensor xt = own(op, "x", x);
        CpuTensor[] wt = new CpuTensor[n];
        CpuTensor[] bt = new CpuTensor[n];
        CpuTensor[] ot = new CpuTensor[n];
        for (int j = 0; j < n; j++) {
            wt[j] = own(op, "w", weights.get(j));
            Tensor bias = biases == null ? null : biases.get(j);
            bt[j] = bias == null ? null : own(op, "bias", bias);
            ot[j] = own(op, "out", outs.get(j));
            requireDistinct(op, xt, ot[j]);
        }
        RowGemv.runMany(pool, rowGemvScratch, xt, wt, bt, ot, rows, sizes.get(0).in());
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        String op = "rmsNorm";
        OpChecks.GroupSizes sizes = OpChecks.rmsNorm(x, gain, eps, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor g = own(op, "gain", gain);
        CpuTensor ot = own(op, "out", out);
        int gs = sizes.groupSize();
        int groups = sizes.groups();
        float[] gw = g.widened();
        pool.parallelFor(groups, Math.max(1, 2048 / gs), (a, b) -> {
            for (int i = a; i < b; i++) {
                long off = 4L * i * gs;
                RowKernels.rmsNorm(xt.seg(), xt.offset + off, gw, eps, ot.seg(), ot.offset + off, gs);
            }
        });
    }

    @Override
    public void layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out) {
        String op = "layerNorm";
        OpChecks.RowSizes sizes = OpChecks.layerNorm(x, gain, bias, eps, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor g = own(op, "gain", gain);
        CpuTensor b = bias == null ? null : own(op, "bias", bias);
        CpuTensor ot = own(op, "out", out);
        int e = sizes.width();
        int rows = sizes.rows();
        float[] gw = g.widened();
        float[] bw = b == null ? new float[e] : b.widened();   // no bias: a shift of zero
        pool.parallelFor(rows, 1, (a, c) -> {
            for (int i = a; i < c; i++) {
                long off = 4L * i * e;
                RowKernels.layerNorm(xt.seg(), xt.offset + off, gw, bw, eps, ot.seg(), ot.offset + off, e);
            }
        });
    }

    @Override
    public void rope(Tensor x, int startPos, RopeSpec spec, Tensor out) {
        String op = "rope";
        OpChecks.RopeSizes sizes = OpChecks.rope(x, startPos, spec, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor ot = own(op, "out", out);
        int cols = sizes.width();
        int half = spec.rotaryDim() / 2;
        float[] invFreq = invFreqs.computeIfAbsent(spec, CpuBackend::invFreqTable);
        int rows = sizes.rows();
        pool.parallelFor(rows, 1, (a, b) -> Rope.rows(xt.seg(), xt.offset, ot.seg(), ot.offset, cols, startPos, spec,
                invFreq, new float[half], new float[half], a, b));
    }

    @Override
    public void ropeRows(Tensor x, int[] positions, RopeSpec spec, Tensor out) {
        String op = "ropeRows";
        checkOpenBackend(op);
        int rows = BatchChecks.ropeRows(x, positions, spec, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor ot = own(op, "out", out);
        int cols = xt.shape().cols();
        int half = spec.rotaryDim() / 2;
        float[] invFreq = invFreqs.computeIfAbsent(spec, CpuBackend::invFreqTable);
        // row r is rotated exactly as rope() rotates a one-row tensor at positions[r]
        pool.parallelFor(rows, 1, (a, b) -> {
            float[] cos = new float[half];
            float[] sin = new float[half];
            for (int r = a; r < b; r++) {
                long step = 4L * r * cols;
                Rope.rows(xt.seg(), xt.offset + step, ot.seg(), ot.offset + step, cols, positions[r], spec, invFreq, cos, sin, 0, 1);
            }
        });
    }

    private static float[] invFreqTable(RopeSpec spec) {
        float[] invFreq = new float[spec.rotaryDim() / 2];
        for (int j = 0; j < invFreq.length; j++) {
            invFreq[j] = spec.invFreq(j);
        }
        return invFreq;
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        String op = "swiglu";
        long n = OpChecks.swiglu(gate, up, out);
        CpuTensor g = own(op, "gate", gate);
        CpuTensor u = own(op, "up", up);
        CpuTensor o = own(op, "out", out);
        parallelRowAligned(g, (a, b) -> RowKernels.swiglu(g.seg(), g.offset + 4L * a, u.seg(), u.offset + 4L * a,
                o.seg(), o.offset + 4L * a, b - a));
    }

    @Override
    public void mgate(Tensor u, Tensor gateLogits, Tensor out) {
        String op = "mgate";
        OpChecks.MgateSizes sizes = OpChecks.mgate(u, gateLogits, out);
        CpuTensor ut = own(op, "u", u);
        CpuTensor gt = own(op, "gateLogits", gateLogits);
        CpuTensor ot = own(op, "out", out);
        int f = sizes.width();
        int rows = sizes.rows();
        int groups = sizes.groups();
        int p = sizes.groupWidth();
        pool.parallelFor(rows, 1, (a, b) -> {
            float[] g = new float[groups];
            for (int t = a; t < b; t++) {
                RowKernels.mgate(ut.seg(), ut.offset + 4L * t * f, gt.seg(), gt.offset + 4L * t * groups, groups, p,
                        ot.seg(), ot.offset + 4L * t * f, g);
            }
        });
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        String op = "gelu";
        long n = OpChecks.gelu(x, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor o = own(op, "out", out);
        parallelRowAligned(xt, (a, b) -> RowKernels.gelu(xt.seg(), xt.offset + 4L * a, o.seg(), o.offset + 4L * a, b - a,
                new float[Math.min(ELEMENTWISE_GRAIN, b - a)]));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        String op = "add";
        long n = OpChecks.add(a, b, out);
        CpuTensor at = own(op, "a", a);
        CpuTensor bt = own(op, "b", b);
        CpuTensor o = own(op, "out", out);
        parallelElements(n, (x, y) -> RowKernels.add(at.seg(), at.offset + 4L * x, bt.seg(), bt.offset + 4L * x,
                o.seg(), o.offset + 4L * x, y - x));
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        OpChecks.RowSizes sizes = OpChecks.softmax(x, out);
        CpuTensor xt = own(op, "x", x);
        CpuTensor o = own(op, "out", out);
        int n = sizes.width();
        int rows = sizes.rows();
        if (n == 0) {
            return;
        }
        pool.parallelFor(rows, Math.max(1, 1024 / n), (a, b) -> {
            for (int r = a; r < b; r++) {
                RowKernels.softmax(xt.seg(), xt.offset + 4L * r * n, o.seg(), o.offset + 4L * r * n, n);
            }
        });
    }

    @Override
    public void dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out) {
        String op = "dynamicWeights";
        OpChecks.DynamicWeightSizes sizes = OpChecks.dynamicWeights(a, params, out);
        CpuTensor at = own(op, "a", a);
        CpuTensor dw1 = own(op, "dw1", params.dw1());
        CpuTensor qkw = own(op, "qkw", params.qkw());
        CpuTensor dd = own(op, "dd", params.dd());
        CpuTensor ot = own(op, "out", out);
        int e = sizes.dim();
        int n = sizes.heads();
        int rank = sizes.rank();
        int k = sizes.hidden();
        int t = sizes.rows();
        int perToken = sizes.perToken();
        requireDistinct(op, at, ot);
        if (t <= RowGemv.MAX_ROWS) {
            // decode (one row or a batch's rows): the projections are too narrow (4K + 4N columns) to split by
            // column, so each row's E inputs are cut into a fixed number of parts, (row, part) items go over the
            // workers (one row alone still streams its weights on every worker), and the parts are added in
            // part order: a row's floats are the same alone, in any batch and with any worker count
            int k4 = 4 * k;
            int n4 = 4 * n;
            int parts = DynamicWeightsKernel.INPUT_PARTS;
            DynamicWeightsKernel.Buffers buf = dynamicScratch.get();
            buf.ensure(t * parts * k4, 4 * 2 * rank * n, t * parts * n4);
            float[] u = buf.u;   // [T, parts, 4K]
            float[] g = buf.g;   // [T, parts, 4N]
            java.util.Arrays.fill(u, 0, t * parts * k4, 0f);
            java.util.Arrays.fill(g, 0, t * parts * n4, 0f);
            pool.parallelFor(t * parts, 1, (i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    int r = i / parts;
                    int part = i % parts;
                    int from = (int) ((long) e * part / parts);
                    int to = (int) ((long) e * (part + 1) / parts);
                    DynamicWeightsKernel.project(at.seg(), at.offset + 4L * r * e, from, to, dw1, dd, k4, n4, u, i * k4, g,
                            i * n4);
                }
            });
            for (int r = 0; r < t; r++) {
                DynamicWeightsKernel.addParts(u, r * parts * k4, k4, parts);
                DynamicWeightsKernel.addParts(g, r * parts * n4, n4, parts);
                DynamicWeightsKernel.finish(u, r * parts * k4, g, r * parts * n4, qkw, n, rank, k, ot.seg(),
                        ot.offset + 4L * r * perToken, buf.r);
            }
            return;
        }
        // prefill: both projections as packed GEMMs over all tokens, then the small per-token rest
        int k4 = 4 * k;
        int n4 = 4 * n;
        try (NativePool.Scratch memory = new NativePool.Scratch()) {
            MemorySegment u = memory.allocate(4L * t * k4, 64);   // [T, 4K]
            MemorySegment g = memory.allocate(4L * t * n4, 64);   // [T, 4N]
            LinearKernel.runInputMajor(pool, linearScratch, at, dw1, u, 0, t, e, k4);
            LinearKernel.runInputMajor(pool, linearScratch, at, dd, g, 0, t, e, n4);
            pool.parallelFor(t, 1, (r0, r1) -> {
                DynamicWeightsKernel.Buffers buf = dynamicScratch.get();
                buf.ensure(k4, 4 * 2 * rank * n, n4);
                for (int r = r0; r < r1; r++) {
                    MemorySegment.copy(u, CpuTensor.F32, 4L * r * k4, buf.u, 0, k4);
                    MemorySegment.copy(g, CpuTensor.F32, 4L * r * n4, buf.g, 0, n4);
                    DynamicWeightsKernel.finish(buf.u, 0, buf.g, 0, qkw, n, rank, k, ot.seg(), ot.offset + 4L * r * perToken, buf.r);
                }
            });
        }
    }

    @Override
    public void dynamicWeightsFromProjection(Tensor projected, DynamicWeightParams params, Tensor out) {
        String op = "dynamicWeightsFromProjection";
        OpChecks.DynamicWeightSizes sizes = OpChecks.dynamicWeightsFromProjection(projected, params, out);
        CpuTensor pt = own(op, "projected", projected);
        CpuTensor qkw = own(op, "qkw", params.qkw());
        CpuTensor ot = own(op, "out", out);
        requireDistinct(op, pt, ot);
        int n = sizes.heads();
        int rank = sizes.rank();
        int k = sizes.hidden();
        int k4 = 4 * k;
        int n4 = 4 * n;
        int perToken = sizes.perToken();
        // one row (a decode step) stays on the caller: its few microseconds would not pay for a hand-off
        pool.parallelFor(sizes.rows(), 1, (r0, r1) -> {
            DynamicWeightsKernel.Buffers buf = dynamicScratch.get();
            buf.ensure(k4, 4 * 2 * rank * n, n4);
            for (int r = r0; r < r1; r++) {
                long row = pt.offset + 4L * r * (k4 + n4);
                MemorySegment.copy(pt.seg(), CpuTensor.F32, row, buf.u, 0, k4);
                MemorySegment.copy(pt.seg(), CpuTensor.F32, row + 4L * k4, buf.g, 0, n4);
                DynamicWeightsKernel.finish(buf.u, 0, buf.g, 0, qkw, n, rank, k, ot.seg(), ot.offset + 4L * r * perToken, buf.r);
            }
        });
    }

    @Override
    public KvCache allocateKvCache(KvCacheSpec spec) {
        checkOpenBackend("allocateKvCache");
        OpChecks.allocateKvCache(spec);
        CpuKvCache c = new CpuKvCache(this, spec);
        registered(c.bytes());
        return c;
    }

    @Override
    public void attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        attention("attentionPrefill", OpChecks.attentionPrefill(q, k, v, dyn, cache, spec, out), q, k, v, dyn, cache, spec, out);
    }

    @Override
    public void attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        attention("attentionDecode", OpChecks.attentionDecode(q, k, v, dyn, cache, spec, out), q, k, v, dyn, cache, spec, out);
    }

    /**
     * One batch of decode rows: rows run in parallel over the workers, each computed exactly as
     * {@link #attentionDecode} of that row alone computes it (a row that the single-row op would split over the
     * workers is split the same way and its pieces run in order on one thread), so a sequence's output does
     * not depend on its batch.
     */
    @Override
    public void attentionDecodeBatch(Tensor q, Tensor k, Tensor v, Tensor dyn, List<KvCache> caches, AttentionSpec spec,
                                     Tensor out) {
        String op = "attentionDecodeBatch";
        checkOpenBackend(op);
        BatchChecks.DecodeBatchSizes sizes = BatchChecks.attentionDecodeBatchSizes(q, k, v, dyn, caches, spec, out);
        int b = sizes.rows();
        if (b == 1) {
            attentionDecode(q, k, v, dyn, caches.get(0), spec, out);
            return;
        }
        // the batch was checked as a whole (every rule of attentionDecode for every row): no per-row views or checks
        Prepared whole = prepare(op, sizes.staticWeights(), q, k, v, dyn, null, spec, out);
        CpuKvCache[] rows = new CpuKvCache[b];
        for (int r = 0; r < b; r++) {
            rows[r] = ownCache(op + " (row " + r + ")", caches.get(r));
        }
        int threads = pool.threads();
        AttentionKernel.Loop inOrder = (n, grain, body) -> WorkerPool.inOrder(n, grain, threads, body);
        pool.parallelFor(b, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                AttentionKernel.run(whole.tensors(), r, rows[r], spec, whole.pre(), whole.post(), pool, attentionScratch,
                        inOrder);
            }
        });
    }

    /** A validated attention call, ready to run; preparing changes nothing. */
    private record Prepared(AttentionKernel.Tensors tensors, CpuKvCache cache, AttentionSpec spec, float[] pre,
                            float[] post) {
    }

    private void attention(String op, OpChecks.AttentionSizes sizes, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache,
                           AttentionSpec spec, Tensor out) {
        Prepared p = prepare(op, sizes.staticWeights(), q, k, v, dyn, cache, spec, out);
        AttentionKernel.run(p.tensors(), p.cache(), p.spec(), p.pre(), p.post(), pool, attentionScratch);
    }

    /** The tensors as ours, the cache (unless null) as ours and open, the static weights widened when applied. */
    private Prepared prepare(String op, boolean staticWeights, Tensor q, Tensor k, Tensor v, Tensor dyn,
                             KvCache cache, AttentionSpec spec, Tensor out) {
        CpuTensor qt = own(op, "q", q);
        CpuTensor kt = own(op, "k", k);
        CpuTensor vt = own(op, "v", v);
        CpuTensor ot = own(op, "out", out);
        requireDistinct(op, qt, ot);
        requireDistinct(op, kt, ot);
        requireDistinct(op, vt, ot);
        CpuTensor dt = spec.mode().usesDynamicWeights() ? own(op, "dyn", dyn) : null;
        CpuKvCache c = cache == null ? null : ownCache(op, cache);
        float[] pre = null;
        float[] post = null;
        if (staticWeights) {
            pre = own(op, "staticPre", spec.staticPre()).toFloatArray();
            post = own(op, "staticPost", spec.staticPost()).toFloatArray();
        }
        return new Prepared(new AttentionKernel.Tensors(qt, kt, vt, dt, ot), c, spec, pre, post);
    }

    /** The cache as one this backend allocated, open; otherwise an IllegalStateException naming it. */
    private CpuKvCache ownCache(String op, KvCache cache) {
        if (!(cache instanceof CpuKvCache c) || c.backend != this) {
            throw new IllegalStateException(op + ": the KV cache " + cache.spec() + " was not allocated by this cpu backend");
        }
        c.checkOpen(op);
        return c;
    }

    // ---------------------------------------------------------------- bookkeeping

    @Override
    public long liveTensors() {
        return liveTensors.get();
    }

    @Override
    public long liveBytes() {
        return liveBytes.get();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.close();
        }
    }

    void released(CpuTensor t) {
        liveTensors.decrementAndGet();
        liveBytes.addAndGet(-t.storage.ownedBytes);
    }

    /** A cache grew by {@code bytes}. */
    void grew(long bytes) {
        liveBytes.addAndGet(bytes);
    }

    void released(CpuKvCache c) {
        liveTensors.decrementAndGet();
        liveBytes.addAndGet(-c.bytes());
    }

    private void registered(long bytes) {
        liveTensors.incrementAndGet();
        liveBytes.addAndGet(bytes);
    }

    // ---------------------------------------------------------------- validation

    private void checkOpenBackend(String op) {
        if (closed) {
            throw new IllegalStateException(op + ": the cpu backend is closed");
        }
    }

    /** The tensor as ours, open; otherwise an IllegalStateException naming it. */
    private CpuTensor own(String op, String role, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + role + " is null");
        }
        if (!(t instanceof CpuTensor c) || c.backend != this) {
            throw new IllegalStateException(op + ": " + role + " tensor '" + t.label() + "' belongs to another backend");
        }
        c.checkOpen(op);
        return c;
    }

    private static void requireDistinct(String op, CpuTensor in, CpuTensor out) {
        if (in.storage == out.storage) {
            throw new IllegalArgumentException(op + ": output '" + out.label() + "' shares storage with input '" + in.label()
                    + "'; this operation cannot run in place");
        }
    }

    /**
     * Splits the elements of a [T, cols] tensor over the pool so that each element takes the vector or the
     * scalar-tail path by its place in its row only: flat chunks when rows are whole vectors (then no chunk has
     * a tail but the last), else whole rows. An element function (silu, GELU) then gives a row the same floats
     * whether it is alone or one of a batch of rows.
     */
    private void parallelRowAligned(CpuTensor t, WorkerPool.RangeBody body) {
        long n = t.shape().numel();
        int cols = t.shape().rank() == 0 ? 1 : t.shape().cols();
        if (cols == 0 || cols % Vec.L == 0) {
            parallelElements(n, body);
            return;
        }
        int rows = Math.toIntExact(n / cols);
        pool.parallelFor(rows, Math.max(1, ELEMENTWISE_GRAIN / cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                body.run(r * cols, (r + 1) * cols);
            }
        });
    }

    /** Splits a flat element range into vector-aligned chunks over the pool. */
    private void parallelElements(long n, WorkerPool.RangeBody body) {
        pool.parallelFor(Math.toIntExact(n), ELEMENTWISE_GRAIN, body);
    }
}
