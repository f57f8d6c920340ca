package io.dcformer4j.backend.cpu;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BatchChecks;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;

import java.lang.foreign.Arena;
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
        checkArgs("allocate", dtype, shape, label);
        long bytes = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        CpuTensor t = new CpuTensor(this, Storage.allocate(bytes), 0, shape, dtype, label, false);
        registered(bytes);
        return t;
    }

    @Override
    public Tensor fromFloats(DType dtype, Shape shape, float[] values, String label) {
        if (dtype == DType.I32) {
            throw new IllegalArgumentException("fromFloats: tensor '" + label + "' cannot be I32; use fromInts");
        }
        if (values == null || values.length != shape.numel()) {
            throw new IllegalArgumentException("fromFloats: tensor '" + label + "' " + shape + " needs " + shape.numel()
                    + " values, got " + (values == null ? "null" : values.length));
        }
        Tensor t = allocate(dtype, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor fromInts(Shape shape, int[] values, String label) {
        if (values == null || values.length != shape.numel()) {
            throw new IllegalArgumentException("fromInts: tensor '" + label + "' " + shape + " needs " + shape.numel()
                    + " values, got " + (values == null ? "null" : values.length));
        }
        Tensor t = allocate(DType.I32, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor weights(DType dtype, Shape shape, MemorySegment data, String label) {
        checkArgs("weights", dtype, shape, label);
        if (data == null) {
            throw new IllegalArgumentException("weights: tensor '" + label + "' has no data segment");
        }
        long expected = Math.multiplyExact(shape.numel(), (long) dtype.byteSize());
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("weights: tensor '" + label + "' " + dtype + shape + " needs " + expected
                    + " bytes, the segment has " + data.byteSize());
        }
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

    @Override
    public Tensor view(Tensor tensor, Shape shape) {
        CpuTensor t = own("view", "tensor", tensor);
        if (shape == null || shape.numel() != t.shape().numel()) {
            throw new IllegalArgumentException("view: tensor '" + t.label() + "' " + t.shape() + " has "
                    + t.shape().numel() + " elements, cannot view as " + shape);
        }
        return new CpuTensor(this, t.storage, t.offset, shape, t.dtype(), t.label(), true);
    }

    @Override
    public Tensor slice(Tensor tensor, int start, int end) {
        CpuTensor t = own("slice", "tensor", tensor);
        Shape s = t.shape();
        if (s.rank() == 0) {
            throw new IllegalArgumentException("slice: tensor '" + t.label() + "' is a scalar");
        }
        if (start < 0 || end < start || end > s.dim(0)) {
            throw new IllegalArgumentException("slice: rows [" + start + ", " + end + ") out of range for tensor '"
                    + t.label() + "' " + s);
        }
        long rowElems = s.dim(0) == 0 ? 0 : s.numel() / s.dim(0);
        long off = t.offset + (long) start * rowElems * t.dtype().byteSize();
        return new CpuTensor(this, t.storage, off, s.withDim0(end - start), t.dtype(), t.label(), true);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuTensor s = own("copy", "src", src);
        CpuTensor d = own("copy", "dst", dst);
        if (s.shape().numel() != d.shape().numel()) {
            throw new IllegalArgumentException("copy: src '" + s.label() + "' " + s.shape() + " and dst '" + d.label()
                    + "' " + d.shape() + " differ in element count");
        }
        if ((s.dtype() == DType.I32) != (d.dtype() == DType.I32)) {
            throw new IllegalArgumentException("copy: cannot convert '" + s.label() + "' " + s.dtype() + " to '"
                    + d.label() + "' " + d.dtype());
        }
        long n = s.shape().numel();
        if (s.dtype() == d.dtype()) {
            MemorySegment.copy(s.seg(), s.offset, d.seg(), d.offset, n * s.dtype().byteSize());
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
        CpuTensor w = own(op, "table", table);
        CpuTensor o = own(op, "out", out);
        requireFloat(op, w);
        requireF32(op, o);
        if (w.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": table '" + w.label() + "' has shape " + w.shape() + ", expected [V, E]");
        }
        int v = w.shape().dim(0);
        int e = w.shape().dim(1);
        if (tokens == null) {
            throw new IllegalArgumentException(op + ": tokens are null");
        }
        requireMatrix(op, o, tokens.length, e);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= v) {
                throw new IllegalArgumentException(op + ": token id " + tokens[i] + " at index " + i
                        + " is out of range [0, " + v + ") of table '" + w.label() + "'");
            }
        }
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
        CpuTensor xt = own(op, "x", x);
        CpuTensor wt = own(op, "w", w);
        CpuTensor bt = bias == null ? null : own(op, "bias", bias);
        CpuTensor ot = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, ot);
        requireFloat(op, wt);
        if (wt.shape().rank() != 2) {
            throw new IllegalArgumentException(op + ": w '" + wt.label() + "' has shape " + wt.shape() + ", expected [out, in]");
        }
        int o = wt.shape().dim(0);
        int in = wt.shape().dim(1);
        int t = rowsOf(op, xt, in);
        requireMatrix(op, ot, t, o);
        if (bt != null) {
            requireFloat(op, bt);
            if (bt.shape().numel() != o) {
                throw new IllegalArgumentException(op + ": bias '" + bt.label() + "' has shape " + bt.shape()
                        + ", expected [" + o + "]");
            }
        }
        requireDistinct(op, xt, ot);
        if (t <= RowGemv.MAX_ROWS) {
            // decode rows (one sequence or a batch): each row's result independent of how many rows there are
            RowGemv.run(pool, rowGemvScratch, xt, wt, bt, ot, t, in, o);
        } else {
            LinearKernel.run(pool, linearScratch, xt, wt, bt, ot, t, in, o);
        }
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        String op = "rmsNorm";
        CpuTensor xt = own(op, "x", x);
        CpuTensor g = own(op, "gain", gain);
        CpuTensor ot = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, ot);
        requireFloat(op, g);
        int gs = Math.toIntExact(g.shape().numel());
        if (gs == 0 || xt.shape().numel() % gs != 0) {
            throw new IllegalArgumentException(op + ": x '" + xt.label() + "' " + xt.shape() + " is not a whole number of groups of "
                    + gs + " (the size of gain '" + g.label() + "' " + g.shape() + ")");
        }
        requireSameShape(op, xt, ot);
        int groups = Math.toIntExact(xt.shape().numel() / gs);
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
        CpuTensor xt = own(op, "x", x);
        CpuTensor g = own(op, "gain", gain);
        CpuTensor b = own(op, "bias", bias);
        CpuTensor ot = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, ot);
        requireFloat(op, g);
        requireFloat(op, b);
        int e = xt.shape().cols();
        if (g.shape().numel() != e || b.shape().numel() != e) {
            throw new IllegalArgumentException(op + ": gain '" + g.label() + "' " + g.shape() + " and bias '" + b.label()
                    + "' " + b.shape() + " must have " + e + " elements (last axis of x '" + xt.label() + "' " + xt.shape() + ")");
        }
        requireSameShape(op, xt, ot);
        int rows = Math.toIntExact(xt.shape().rows());
        float[] gw = g.widened();
        float[] bw = b.widened();
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
        CpuTensor xt = own(op, "x", x);
        CpuTensor ot = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, ot);
        if (spec == null) {
            throw new IllegalArgumentException(op + ": RoPE spec is null");
        }
        if (startPos < 0) {
            throw new IllegalArgumentException(op + ": startPos must be ≥ 0, got " + startPos);
        }
        int cols = xt.shape().cols();
        if (cols % spec.headDim() != 0) {
            throw new IllegalArgumentException(op + ": x '" + xt.label() + "' " + xt.shape() + " last axis " + cols
                    + " is not a multiple of headDim " + spec.headDim());
        }
        requireSameShape(op, xt, ot);
        int half = spec.rotaryDim() / 2;
        float[] invFreq = invFreqs.computeIfAbsent(spec, CpuBackend::invFreqTable);
        int rows = Math.toIntExact(xt.shape().rows());
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
        requireF32(op, xt);
        requireF32(op, ot);
        int cols = xt.shape().cols();
        if (cols % spec.headDim() != 0) {
            throw new IllegalArgumentException(op + ": x '" + xt.label() + "' " + xt.shape() + " last axis " + cols
                    + " is not a multiple of headDim " + spec.headDim());
        }
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
        CpuTensor g = own(op, "gate", gate);
        CpuTensor u = own(op, "up", up);
        CpuTensor o = own(op, "out", out);
        requireF32(op, g);
        requireF32(op, u);
        requireF32(op, o);
        requireSameShape(op, g, u);
        requireSameShape(op, g, o);
        parallelRowAligned(g, (a, b) -> RowKernels.swiglu(g.seg(), g.offset + 4L * a, u.seg(), u.offset + 4L * a,
                o.seg(), o.offset + 4L * a, b - a));
    }

    @Override
    public void mgate(Tensor u, Tensor gateLogits, Tensor out) {
        String op = "mgate";
        CpuTensor ut = own(op, "u", u);
        CpuTensor gt = own(op, "gateLogits", gateLogits);
        CpuTensor ot = own(op, "out", out);
        requireF32(op, ut);
        requireF32(op, gt);
        requireF32(op, ot);
        int f = ut.shape().cols();
        int rows = Math.toIntExact(ut.shape().rows());
        int groups = gt.shape().cols();
        if (gt.shape().rows() != rows || groups == 0 || f % groups != 0) {
            throw new IllegalArgumentException(op + ": gateLogits '" + gt.label() + "' has shape " + gt.shape()
                    + ", expected [" + rows + ", Mg] with Mg dividing " + f + " (u '" + ut.label() + "' " + ut.shape() + ")");
        }
        requireSameShape(op, ut, ot);
        int p = f / groups;
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
        CpuTensor xt = own(op, "x", x);
        CpuTensor o = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, o);
        requireSameShape(op, xt, o);
        parallelRowAligned(xt, (a, b) -> RowKernels.gelu(xt.seg(), xt.offset + 4L * a, o.seg(), o.offset + 4L * a, b - a,
                new float[Math.min(ELEMENTWISE_GRAIN, b - a)]));
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        String op = "add";
        CpuTensor at = own(op, "a", a);
        CpuTensor bt = own(op, "b", b);
        CpuTensor o = own(op, "out", out);
        requireF32(op, at);
        requireF32(op, bt);
        requireF32(op, o);
        requireSameShape(op, at, bt);
        requireSameShape(op, at, o);
        parallelElements(at.shape().numel(), (x, y) -> RowKernels.add(at.seg(), at.offset + 4L * x, bt.seg(), bt.offset + 4L * x,
                o.seg(), o.offset + 4L * x, y - x));
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        String op = "softmax";
        CpuTensor xt = own(op, "x", x);
        CpuTensor o = own(op, "out", out);
        requireF32(op, xt);
        requireF32(op, o);
        requireSameShape(op, xt, o);
        int n = xt.shape().cols();
        int rows = Math.toIntExact(xt.shape().rows());
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
        if (params == null) {
            throw new IllegalArgumentException(op + ": params are null");
        }
        CpuTensor at = own(op, "a", a);
        CpuTensor dw1 = own(op, "dw1", params.dw1());
        CpuTensor qkw = own(op, "qkw", params.qkw());
        CpuTensor dd = own(op, "dd", params.dd());
        CpuTensor ot = own(op, "out", out);
        requireF32(op, at);
        requireF32(op, ot);
        requireFloat(op, dw1);
        requireFloat(op, qkw);
        requireFloat(op, dd);
        int e = params.dim();
        int n = params.numHeads();
        int rank = params.rank();
        int k = params.hidden();
        int t = rowsOf(op, at, e);
        int perToken = 4 * (2 * rank + 1) * n;
        if (ot.shape().rank() == 0 || ot.shape().dim(0) != t || ot.shape().numel() != (long) t * perToken) {
            throw new IllegalArgumentException(op + ": out '" + ot.label() + "' has shape " + ot.shape() + ", expected ["
                    + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
        }
        requireDistinct(op, at, ot);
        if (t <= RowGemv.MAX_ROWS) {
            // decode (one row or a batch's rows): split the projection columns over the workers, then finish each
            // token here; every row is computed as it would be alone
            int k4 = 4 * k;
            int n4 = 4 * n;
            DynamicWeightsKernel.Buffers buf = dynamicScratch.get();
            buf.ensure(t * k4, 4 * 2 * rank * n, t * n4);
            float[] u = buf.u;
            float[] g = buf.g;
            java.util.Arrays.fill(u, 0, t * k4, 0f);
            java.util.Arrays.fill(g, 0, t * n4, 0f);
            pool.parallelFor(k4 + n4, 64, (c0, c1) -> {
                for (int r = 0; r < t; r++) {
                    DynamicWeightsKernel.project(at.seg(), at.offset + 4L * r * e, e, dw1, dd, k4, n4, c0, c1, u, r * k4, g, r * n4);
                }
            });
            for (int r = 0; r < t; r++) {
                DynamicWeightsKernel.finish(u, r * k4, g, r * n4, qkw, n, rank, k, ot.seg(), ot.offset + 4L * r * perToken, buf.r);
            }
            return;
        }
        // prefill: both projections as packed GEMMs over all tokens, then the small per-token rest
        int k4 = 4 * k;
        int n4 = 4 * n;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment u = arena.allocate(4L * t * k4, 64);   // [T, 4K]
            MemorySegment g = arena.allocate(4L * t * n4, 64);   // [T, 4N]
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
    public KvCache allocateKvCache(KvCacheSpec spec) {
        checkOpenBackend("allocateKvCache");
        if (spec == null) {
            throw new IllegalArgumentException("allocateKvCache: spec is null");
        }
        CpuKvCache c = new CpuKvCache(this, spec);
        registered(c.bytes());
        return c;
    }

    @Override
    public void attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        attention("attentionPrefill", q, k, v, dyn, cache, spec, out);
    }

    @Override
    public void attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        CpuTensor qt = own("attentionDecode", "q", q);
        if (qt.shape().rank() == 0 || qt.shape().dim(0) != 1) {
            throw new IllegalArgumentException("attentionDecode: q '" + qt.label() + "' has shape " + qt.shape()
                    + ", expected one row [1, N·D]");
        }
        attention("attentionDecode", q, k, v, dyn, cache, spec, out);
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
        int b = BatchChecks.attentionDecodeBatch(q, k, v, dyn, caches, spec, out);
        if (b == 1) {
            attentionDecode(q, k, v, dyn, caches.get(0), spec, out);
            return;
        }
        for (Tensor t : dyn == null ? new Tensor[] {q, k, v, out} : new Tensor[] {q, k, v, out, dyn}) {
            own(op, "batch", t);
        }
        Prepared[] rows = new Prepared[b];
        for (int r = 0; r < b; r++) {
            rows[r] = prepare(op + " (row " + r + ")", slice(q, r, r + 1), slice(k, r, r + 1), slice(v, r, r + 1),
                    dyn == null ? null : slice(dyn, r, r + 1), caches.get(r), spec, slice(out, r, r + 1));
        }
        int threads = pool.threads();
        pool.parallelFor(b, 1, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                run(rows[r], (n, grain, body) -> WorkerPool.inOrder(n, grain, threads, body));
            }
        });
    }

    /** A validated attention call, ready to run; preparing changes nothing. */
    private record Prepared(AttentionKernel.Call call, CpuKvCache cache, CpuTensor k, CpuTensor v, CpuTensor dyn,
                            boolean keySide) {
    }

    private void attention(String op, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        run(prepare(op, q, k, v, dyn, cache, spec, out), null);
    }

    /**
     * Runs a prepared call. A decode row that the single-row path splits over the workers (long contexts) is
     * split the same way; {@code splitLoop} runs its pieces (null: over the pool).
     */
    private void run(Prepared p, AttentionKernel.Loop splitLoop) {
        AttentionKernel.Call call = p.call();
        CpuKvCache c = p.cache();
        AttentionSpec spec = call.spec();
        int t = call.t();
        int start = call.start();
        c.ensure(start + t);
        if (t == 1) {
            AttentionKernel.append(p.k(), p.v(), p.dyn(), c, start, 0, 1);
        }
        int visible = start + 1 - spec.firstVisibleKey(start, false);
        if (t == 1 && pool.threads() > 1 && visible >= 2 * AttentionKernel.DECODE_SPLIT_KEYS) {
            if (splitLoop == null) {
                AttentionKernel.decodeSplit(call, pool, attentionScratch);
            } else {
                AttentionKernel.decodeSplit(call, pool.threads(), splitLoop, attentionScratch);
            }
        } else if (splitLoop == null) {
            pool.parallelFor(AttentionKernel.blocks(t), 1, (a, b) -> AttentionKernel.blocks(call, a, b, attentionScratch.get()));
        } else {
            AttentionKernel.blocks(call, 0, AttentionKernel.blocks(t), attentionScratch.get());
        }
        if (t > 1) {
            AttentionKernel.append(p.k(), p.v(), p.keySide() ? p.dyn() : null, c, start, Math.max(0, t - c.spec().capacity()), t);
        }
        c.advance(t);
    }

    private Prepared prepare(String op, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        if (spec == null) {
            throw new IllegalArgumentException(op + ": attention spec is null");
        }
        CpuTensor qt = own(op, "q", q);
        CpuTensor kt = own(op, "k", k);
        CpuTensor vt = own(op, "v", v);
        CpuTensor ot = own(op, "out", out);
        for (CpuTensor x : new CpuTensor[] {qt, kt, vt, ot}) {
            requireF32(op, x);
        }
        int n = spec.numHeads();
        int d = spec.headDim();
        int t = rowsOf(op, qt, n * d);
        requireMatrix(op, kt, t, n * d);
        requireMatrix(op, vt, t, n * d);
        requireMatrix(op, ot, t, n * d);
        requireDistinct(op, qt, ot);
        requireDistinct(op, kt, ot);
        requireDistinct(op, vt, ot);
        CpuTensor dt = null;
        int rank = spec.rank();
        if (spec.mode().usesDynamicWeights()) {
            if (dyn == null) {
                throw new IllegalArgumentException(op + ": mode " + spec.mode() + " needs the dynamic weights, dyn is null");
            }
            dt = own(op, "dyn", dyn);
            requireF32(op, dt);
            long per = 4L * (2 * rank + 1) * n;
            if (dt.shape().rank() == 0 || dt.shape().dim(0) != t || dt.shape().numel() != t * per) {
                throw new IllegalArgumentException(op + ": dyn '" + dt.label() + "' has shape " + dt.shape() + ", expected ["
                        + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
            }
        }
        if (!(cache instanceof CpuKvCache c) || c.backend != this) {
            throw new IllegalStateException(op + ": the KV cache " + (cache == null ? "null" : cache.spec())
                    + " was not allocated by this cpu backend");
        }
        c.checkOpen(op);
        KvCacheSpec cs = c.spec();
        if (cs.numHeads() != n || cs.headDim() != d) {
            throw new IllegalArgumentException(op + ": KV cache " + cs + " has " + cs.numHeads() + " heads of " + cs.headDim()
                    + ", the attention spec needs " + n + " heads of " + d);
        }
        if (spec.mode() == AttentionMode.DCMHA && (!cs.keySide() || cs.rank() != rank)) {
            throw new IllegalArgumentException(op + ": DCMHA needs a KV cache with key-side factors of rank " + rank
                    + ", got " + cs);
        }
        int start = c.length();
        if (spec.isLocal()) {
            int need = spec.window() + (spec.windowPlusOneInPrefill() ? 1 : 0);
            if (cs.capacity() < need) {
                throw new IllegalArgumentException(op + ": local layer with window " + spec.window() + " needs a KV cache of at least "
                        + need + " slots, got capacity " + cs.capacity());
            }
        } else if ((long) start + t > cs.capacity()) {
            throw new IllegalArgumentException(op + ": global layer KV cache capacity " + cs.capacity() + " is too small for "
                    + t + " new positions after " + start);
        }
        float[] pre = null;
        float[] post = null;
        if (spec.staticPre() != null && spec.mode() != AttentionMode.PLAIN_MHA) {
            pre = staticWeights(op, "staticPre", spec.staticPre(), n);
            post = staticWeights(op, "staticPost", spec.staticPost(), n);
        }
        boolean keySide = c.keySide != null && dt != null;
        AttentionKernel.Call call;
        if (t == 1) {
            call = new AttentionKernel.Call(qt, dt, c, spec, ot, 1, start, pre, post, null, null, null);
        } else {
            float[][] fresh = AttentionKernel.fresh(kt, vt, dt, t, n, d, rank, spec.mode() == AttentionMode.DCMHA);
            call = new AttentionKernel.Call(qt, dt, c, spec, ot, t, start, pre, post, fresh[0], fresh[1], fresh[2]);
        }
        return new Prepared(call, c, kt, vt, dt, keySide);
    }

    private float[] staticWeights(String op, String role, Tensor s, int n) {
        CpuTensor st = own(op, role, s);
        requireFloat(op, st);
        if (st.shape().numel() != (long) n * n) {
            throw new IllegalArgumentException(op + ": " + role + " '" + st.label() + "' has shape " + st.shape()
                    + ", expected [" + n + ", " + n + "]");
        }
        return st.toFloatArray();
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

    void released(CpuKvCache c) {
        liveTensors.decrementAndGet();
        liveBytes.addAndGet(-c.bytes());
    }

    /** A cache grew by {@code bytes}. */
    void grew(long bytes) {
        liveBytes.addAndGet(bytes);
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

    private void checkArgs(String op, DType dtype, Shape shape, String label) {
        checkOpenBackend(op);
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException(op + ": tensor '" + label + "' needs a dtype and a shape");
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

    private static void requireF32(String op, CpuTensor t) {
        if (t.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": tensor '" + t.label() + "' " + t.shape() + " is " + t.dtype()
                    + ", expected F32");
        }
    }

    private static void requireFloat(String op, CpuTensor t) {
        if (!t.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": tensor '" + t.label() + "' " + t.shape() + " is " + t.dtype()
                    + ", expected F32, BF16 or F16");
        }
    }

    private static void requireSameShape(String op, CpuTensor a, CpuTensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": tensor '" + b.label() + "' has shape " + b.shape() + ", expected "
                    + a.shape() + " (the shape of '" + a.label() + "')");
        }
    }

    /** Requires [rows, cols] (any shape whose axis 0 is rows and whose element count is rows·cols). */
    private static void requireMatrix(String op, CpuTensor t, int rows, int cols) {
        Shape s = t.shape();
        if (s.rank() == 0 || s.dim(0) != rows || s.numel() != (long) rows * cols) {
            throw new IllegalArgumentException(op + ": tensor '" + t.label() + "' has shape " + s + ", expected ["
                    + rows + ", " + cols + "]");
        }
    }

    /** Rows of a [T, cols] tensor; fails when its last axis is not cols. */
    private static int rowsOf(String op, CpuTensor t, int cols) {
        Shape s = t.shape();
        if (s.rank() == 0 || s.numel() % Math.max(1, cols) != 0 || s.dim(0) == 0 && s.numel() != 0
                || s.dim(0) != 0 && s.numel() / s.dim(0) != cols) {
            throw new IllegalArgumentException(op + ": tensor '" + t.label() + "' has shape " + s + ", expected [T, " + cols + "]");
        }
        return s.dim(0);
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
