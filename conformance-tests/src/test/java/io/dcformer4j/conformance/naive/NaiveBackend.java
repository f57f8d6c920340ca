package io.dcformer4j.conformance.naive;

import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.OpChecks;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.conformance.Oracle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * A plain scalar float32 implementation of the SPI, written straight from the spec: the "third-party
 * backend" the kit certifies in its own tests, and the base of the deliberately broken variants in
 * {@link BrokenBackends}. Each kernel a real backend could get wrong is a protected method, so a variant
 * overrides exactly one of them. Linear rows are split over a small worker pool, like a real CPU backend.
 */
public class NaiveBackend implements Backend {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Weight segments above this size are read in place instead of copied to the heap (like a mapped checkpoint). */
    private static final long EXTERNAL_WEIGHT_BYTES = 1L << 28;

    private final BackendOptions options;
    private final int threads;
    private final ExecutorService pool;
    private final AtomicLong liveTensors = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private volatile boolean closed;

    /** Opens with the given worker count (0: available processors). */
    public NaiveBackend(BackendOptions options) {
        this.options = options;
        this.threads = options.resolvedThreads();
        this.pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "naive-backend-worker");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    @Override
    public String name() {
        return "naive";
    }

    @Override
    public String description() {
        return "scalar float32 reference backend (test only), " + threads + " worker(s)";
    }

    @Override
    public BackendOptions options() {
        return options;
    }

    // ---------------------------------------------------------------- kernels a variant may get wrong

    /** float → bfloat16 bits, round to nearest even. */
    protected short floatToBf16(float f) {
        return Numerics.floatToBf16(f);
    }

    /** bfloat16 bits → float. */
    protected float bf16ToFloat(short bits) {
        return Numerics.bf16ToFloat(bits);
    }

    /** The dot product of n elements, in float32. */
    protected float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** Max-subtracted softmax of {@code row[from .. from+n)} in place. */
    protected void softmaxInPlace(float[] row, int from, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, row[from + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            row[from + i] = (float) Math.exp(row[from + i] - max);
            sum += row[from + i];
        }
        for (int i = 0; i < n; i++) {
            row[from + i] /= sum;
        }
    }

    /** The first key visible to a query at position t. */
    protected int firstVisibleKey(AttentionSpec spec, int t, boolean multiTokenCall) {
        return spec.firstVisibleKey(t, multiTokenCall);
    }

    /** Post-compose of one (t, s) column: {@code out[m] = Σ_n alpha[n] · matrix[n, m]}, matrix [N, N]. */
    protected void postCompose(float[] alpha, float[] matrix, float[] out, int n) {
        applyCompose(alpha, matrix, out, n);
    }

    /** 1/sqrt(mean square + eps) of one RMSNorm group of n elements whose squares sum to {@code sumSquares}. */
    protected float rmsInverse(float sumSquares, int n, float eps) {
        return (float) (1.0 / Math.sqrt(sumSquares / n + eps));
    }

    /** The value RMSNorm reads for an input element (a backend that flushes subnormals changes it here). */
    protected float rmsInput(float x) {
        return x;
    }

    /** 1/sqrt(variance + eps) of one LayerNorm row. */
    protected float layerNormInverse(float variance, float eps) {
        return (float) (1.0 / Math.sqrt(variance + eps));
    }

    /** 1/RMS over the N heads of one dynamic-weight factor, r[offset .. offset+n). */
    protected float headRmsInverse(float[] r, int offset, int n) {
        float ms = 0f;
        for (int h = 0; h < n; h++) {
            ms += r[offset + h] * r[offset + h];
        }
        return (float) (1.0 / Math.sqrt(ms / n + 1e-6));
    }

    /** The element index where row {@code row} of a [rows, width] weight table of {@code byteSize}-byte elements starts. */
    protected long tableRowStart(int row, int width, int byteSize) {
        return (long) row * width;
    }

    /** The first key the query at {@code position} attends to (row {@code rowInCall} of a call over {@code cache}). */
    protected int firstKeyOfRow(AttentionSpec spec, int position, boolean multiTokenCall, int rowInCall, NaiveKvCache cache) {
        return firstVisibleKey(spec, position, multiTokenCall);
    }

    /** Softmax of one head's logits over the visible keys of a query (decode: the call has one query). */
    protected void attentionSoftmax(float[] logits, int from, int keys, boolean decode) {
        softmaxInPlace(logits, from, keys);
    }

    /** Whether a decode call attends at all when the cache is empty (the fresh key is its only key). */
    protected boolean decodeAttends(int cachedKeys) {
        return true;
    }

    /** A zeroed float buffer for one query row's logits [N, S]. */
    protected float[] logitsBuffer(int size) {
        return new float[size];
    }

    /** Where the cached keys and values of {@code cache} are read: {keys, values}, each [capacity, N·D]. */
    protected float[][] cachedKeysAndValues(NaiveKvCache cache, int cachedLength) {
        return new float[][] {cache.keys, cache.values};
    }

    /** The output row of one query is built in a buffer; this maps element i of the row to its buffer slot. */
    protected int outputSlot(int i, int width) {
        return i;
    }

    /** Whether the key-wise compose terms apply in this mode (in a call with several queries when {@code multi}). */
    protected boolean keyWiseTerms(AttentionSpec spec, boolean multi, int cachedBefore) {
        return spec.mode() == io.dcformer4j.api.AttentionMode.DCMHA;
    }

    /** The values of a static compose weight [N, N]. */
    protected float[] staticWeights(NaiveTensor weight) {
        return weight.toFloatArray();
    }

    /** Runs body(i) for i in [0, count), split in contiguous chunks over the workers; returns when all are done. */
    protected void parallelFor(int count, IntConsumer body) {
        int chunks = Math.min(threads, count);
        if (pool == null || chunks <= 1) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) count * c / chunks);
            int to = (int) ((long) count * (c + 1) / chunks);
            futures.add(submit(() -> {
                for (int i = from; i < to; i++) {
                    body.accept(i);
                }
            }));
        }
        int firstEnd = count / chunks;
        for (int i = 0; i < firstEnd; i++) {
            body.accept(i);
        }
        awaitAll(futures);
    }

    /** Hands a task to the worker pool (only when there is one: more than one worker). */
    protected Future<?> submit(Runnable task) {
        if (pool == null) {
            throw new IllegalStateException("the naive backend has no worker pool with " + threads + " worker(s)");
        }
        return pool.submit(task);
    }

    /** Waits for the given worker tasks. */
    protected static void awaitAll(List<Future<?>> futures) {
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for workers", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("worker failed", e.getCause());
            }
        }
    }

    // ---------------------------------------------------------------- storage

    void released(long bytes) {
        liveTensors.decrementAndGet();
        liveBytes.addAndGet(-bytes);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("naive backend is closed");
        }
    }

    private NaiveTensor create(DType dtype, Shape shape, String label) {
        ensureOpen();
        OpChecks.allocate(dtype, shape, label);
        NaiveTensor.Storage storage = new NaiveTensor.Storage(dtype, Math.toIntExact(shape.numel()));
        liveTensors.incrementAndGet();
        liveBytes.addAndGet(storage.bytes);
        return new NaiveTensor(this, dtype, shape, label, storage, 0, false);
    }

    @Override
    public Tensor allocate(DType dtype, Shape shape, String label) {
        return create(dtype, shape, label);
    }

    @Override
    public Tensor fromFloats(DType dtype, Shape shape, float[] values, String label) {
        ensureOpen();
        OpChecks.fromFloats(dtype, shape, values, label);
        NaiveTensor t = create(dtype, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor fromInts(Shape shape, int[] values, String label) {
        ensureOpen();
        OpChecks.fromInts(shape, values, label);
        NaiveTensor t = create(DType.I32, shape, label);
        t.copyFrom(values);
        return t;
    }

    @Override
    public Tensor weights(DType dtype, Shape shape, MemorySegment data, String label) {
        ensureOpen();
        OpChecks.weights(dtype, shape, data, label);
        long n = shape.numel();
        if (data.byteSize() > EXTERNAL_WEIGHT_BYTES) {
            liveTensors.incrementAndGet();
            return new NaiveTensor(this, dtype, shape, label, new NaiveTensor.Storage(data), 0, false);
        }
        NaiveTensor t = create(dtype, shape, label);
        if (dtype == DType.Q8_0) {
            MemorySegment.copy(data, 0, MemorySegment.ofArray(t.storage.blocks), 0, data.byteSize());
            return t;
        }
        for (int i = 0; i < n; i++) {
            if (dtype == DType.F32) {
                t.storage.floats[i] = data.getAtIndex(F32_LE, i);
            } else {
                t.storage.halves[i] = data.getAtIndex(I16_LE, i);
            }
        }
        return t;
    }

    /** Every dtype: Q8_0 weights are read value by value through {@code Q8_0Format}. */
    @Override
    public boolean supportsWeights(DType dtype) {
        return true;
    }

    @Override
    public Tensor view(Tensor tensor, Shape shape) {
        OpChecks.view(tensor, shape);
        NaiveTensor t = check(tensor, "view");
        return new NaiveTensor(this, t.dtype(), shape, t.label(), t.storage, t.offset, true);
    }

    @Override
    public Tensor slice(Tensor tensor, int start, int end) {
        OpChecks.ViewSizes v = OpChecks.slice(tensor, start, end);
        NaiveTensor t = check(tensor, "slice");
        return new NaiveTensor(this, t.dtype(), v.shape(), t.label(), t.storage, t.offset + Math.toIntExact(v.firstElement()), true);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        OpChecks.copy(src, dst);
        NaiveTensor s = check(src, "copy");
        NaiveTensor d = check(dst, "copy");
        for (int i = 0; i < s.numel(); i++) {
            d.set(i, s.get(i));
        }
    }

    // ---------------------------------------------------------------- validation helpers

    private NaiveTensor check(Tensor tensor, String op) {
        if (tensor == null) {
            throw new IllegalArgumentException(op + ": missing tensor");
        }
        if (!(tensor instanceof NaiveTensor t) || t.owner() != this) {
            throw new IllegalStateException(op + ": tensor '" + tensor.label() + "' belongs to another backend");
        }
        ensureOpen();
        t.ensureOpen(op);
        return t;
    }

    private static void write(NaiveTensor t, float[] values) {
        for (int i = 0; i < values.length; i++) {
            t.set(i, values[i]);
        }
    }

    // ---------------------------------------------------------------- operations

    @Override
    public void embedding(Tensor table, int[] tokens, Tensor out) {
        int width = OpChecks.embedding(table, tokens, out).width();
        NaiveTensor tt = check(table, "embedding");
        NaiveTensor o = check(out, "embedding");
        for (int t = 0; t < tokens.length; t++) {
            long rowStart = tableRowStart(tokens[t], width, tt.dtype().byteSize());
            for (int e = 0; e < width; e++) {
                o.set(t * width + e, tt.get(Math.toIntExact(rowStart + e)));
            }
        }
    }

    @Override
    public void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        OpChecks.LinearSizes sizes = OpChecks.linear(x, w, bias, out);
        NaiveTensor xt = check(x, "linear");
        NaiveTensor wt = check(w, "linear");
        NaiveTensor ot = check(out, "linear");
        int in = sizes.in();
        int outDim = sizes.out();
        int rows = sizes.rows();
        float[] b = bias == null ? null : check(bias, "linear").toFloatArray();
        float[] xs = xt.toFloatArray();
        float[] result = new float[rows * outDim]; // [T, out]
        float[] bf = b;
        if (wt.storage.external != null) {
            // A table too big for one array: one weight row at a time.
            parallelFor(outDim, o -> {
                float[] row = new float[in]; // [in]
                long rowStart = tableRowStart(o, in, wt.dtype().blockBytes() / wt.dtype().blockSize());
                for (int i = 0; i < in; i++) {
                    row[i] = wt.get(Math.toIntExact(rowStart + i));
                }
                for (int t = 0; t < rows; t++) {
                    result[t * outDim + o] = dot(xs, t * in, row, 0, in) + (bf == null ? 0f : bf[o]);
                }
            });
            write(ot, result);
            return;
        }
        float[] ws = wt.toFloatArray();
        parallelFor(rows, t -> {
            for (int o = 0; o < outDim; o++) {
                result[t * outDim + o] = dot(xs, t * in, ws, o * in, in) + (bf == null ? 0f : bf[o]);
            }
        });
        write(ot, result);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        int g = OpChecks.rmsNorm(x, gain, eps, out).groupSize();
        NaiveTensor xt = check(x, "rmsNorm");
        NaiveTensor gt = check(gain, "rmsNorm");
        NaiveTensor ot = check(out, "rmsNorm");
        float[] xs = xt.toFloatArray();
        float[] gs = gt.toFloatArray();
        float[] result = new float[xs.length]; // same shape as x
        for (int start = 0; start < xs.length; start += g) {
            float ss = 0f;
            for (int j = 0; j < g; j++) {
                float v = rmsInput(xs[start + j]);
                ss += v * v;
            }
            float inv = rmsInverse(ss, g, eps);
            for (int j = 0; j < g; j++) {
                result[start + j] = gs[j] * (rmsInput(xs[start + j]) * inv);
            }
        }
        write(ot, result);
    }

    @Override
    public void layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out) {
        int e = OpChecks.layerNorm(x, gain, bias, eps, out).width();
        NaiveTensor xt = check(x, "layerNorm");
        NaiveTensor gt = check(gain, "layerNorm");
        NaiveTensor ot = check(out, "layerNorm");
        float[] xs = xt.toFloatArray();
        float[] gs = gt.toFloatArray();
        float[] bs = bias == null ? new float[e] : check(bias, "layerNorm").toFloatArray(); // no bias: a zero shift
        float[] result = new float[xs.length]; // same shape as x
        for (int start = 0; start < xs.length; start += e) {
            float mean = 0f;
            for (int j = 0; j < e; j++) {
                mean += xs[start + j];
            }
            mean /= e;
            float var = 0f;
            for (int j = 0; j < e; j++) {
                float dv = xs[start + j] - mean;
                var += dv * dv;
            }
            var /= e;
            float inv = layerNormInverse(var, eps);
            for (int j = 0; j < e; j++) {
                result[start + j] = gs[j] * ((xs[start + j] - mean) * inv) + bs[j];
            }
        }
        write(ot, result);
    }

    @Override
    public void rope(Tensor x, int startPos, RopeSpec spec, Tensor out) {
        OpChecks.RopeSizes sizes = OpChecks.rope(x, startPos, spec, out);
        NaiveTensor xt = check(x, "rope");
        NaiveTensor ot = check(out, "rope");
        int d = sizes.headDim();
        int rows = sizes.rows();
        int heads = sizes.heads();
        int half = spec.rotaryDim() / 2;
        float[] xs = xt.toFloatArray();
        float[] result = xs.clone(); // same shape as x
        for (int t = 0; t < rows; t++) {
            for (int h = 0; h < heads; h++) {
                int base = (t * heads + h) * d;
                for (int j = 0; j < half; j++) {
                    float theta = (float) (startPos + t) * spec.invFreq(j);
                    float c = (float) Math.cos(theta);
                    float s = (float) Math.sin(theta);
                    float a = xs[base + j];
                    float b = xs[base + j + half];
                    result[base + j] = a * c - b * s;
                    result[base + j + half] = b * c + a * s;
                }
            }
        }
        write(ot, result);
    }

    @Override
    public void swiglu(Tensor gate, Tensor up, Tensor out) {
        OpChecks.swiglu(gate, up, out);
        NaiveTensor g = check(gate, "swiglu");
        NaiveTensor u = check(up, "swiglu");
        NaiveTensor o = check(out, "swiglu");
        float[] gs = g.toFloatArray();
        float[] us = u.toFloatArray();
        float[] result = new float[gs.length]; // same shape as gate
        for (int i = 0; i < gs.length; i++) {
            result[i] = gs[i] / (1f + (float) Math.exp(-gs[i])) * us[i];
        }
        write(o, result);
    }

    @Override
    public void mgate(Tensor u, Tensor gateLogits, Tensor out) {
        OpChecks.MgateSizes sizes = OpChecks.mgate(u, gateLogits, out);
        NaiveTensor ut = check(u, "mgate");
        NaiveTensor gt = check(gateLogits, "mgate");
        NaiveTensor ot = check(out, "mgate");
        int rows = sizes.rows();
        int f = sizes.width();
        int groups = sizes.groups();
        int p = sizes.groupWidth();
        float[] us = ut.toFloatArray();
        float[] gs = gt.toFloatArray();
        float[] result = new float[us.length]; // [T, F]
        for (int t = 0; t < rows; t++) {
            softmaxInPlace(gs, t * groups, groups);
            for (int i = 0; i < f; i++) {
                result[t * f + i] = gs[t * groups + i / p] * us[t * f + i];
            }
        }
        write(ot, result);
    }

    @Override
    public void gelu(Tensor x, Tensor out) {
        OpChecks.gelu(x, out);
        NaiveTensor xt = check(x, "gelu");
        NaiveTensor ot = check(out, "gelu");
        float[] xs = xt.toFloatArray();
        float[] result = new float[xs.length]; // same shape as x
        for (int i = 0; i < xs.length; i++) {
            result[i] = geluScalar(xs[i]);
        }
        write(ot, result);
    }

    private static float geluScalar(float z) {
        return (float) Oracle.gelu(z);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        OpChecks.add(a, b, out);
        NaiveTensor at = check(a, "add");
        NaiveTensor bt = check(b, "add");
        NaiveTensor ot = check(out, "add");
        float[] as = at.toFloatArray();
        float[] bs = bt.toFloatArray();
        float[] result = new float[as.length]; // same shape as a
        for (int i = 0; i < as.length; i++) {
            result[i] = as[i] + bs[i];
        }
        write(ot, result);
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        OpChecks.softmax(x, out);
        NaiveTensor xt = check(x, "softmax");
        NaiveTensor ot = check(out, "softmax");
        float[] xs = xt.toFloatArray();
        int width = xt.shape().cols();
        for (int start = 0; start < xs.length; start += width) {
            softmaxInPlace(xs, start, width);
        }
        write(ot, xs);
    }

    @Override
    public void dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out) {
        OpChecks.DynamicWeightSizes sizes = OpChecks.dynamicWeights(a, params, out);
        NaiveTensor at = check(a, "dynamicWeights");
        NaiveTensor ot = check(out, "dynamicWeights");
        int e = sizes.dim();
        int n = sizes.heads();
        int rank = sizes.rank();
        int k = sizes.hidden();
        int rows = sizes.rows();
        float[] as = at.toFloatArray();
        float[] dw1 = check(params.dw1(), "dynamicWeights").toFloatArray();
        float[] qkw = check(params.qkw(), "dynamicWeights").toFloatArray();
        float[] dd = check(params.dd(), "dynamicWeights").toFloatArray();
        int perSlot = (2 * rank + 1) * n;
        float[] result = new float[rows * 4 * perSlot]; // [T, 4, 2I+1, N]
        float[] u = new float[k]; // [K]
        float[] r = new float[2 * rank * n]; // [2I, N]
        for (int t = 0; t < rows; t++) {
            for (int c = 0; c < 4; c++) {
                for (int kk = 0; kk < k; kk++) {
                    float z = 0f;
                    for (int ee = 0; ee < e; ee++) {
                        z += as[t * e + ee] * dw1[(ee * 4 + c) * k + kk];
                    }
                    u[kk] = geluScalar(z);
                }
                for (int j = 0; j < 2 * rank * n; j++) {
                    float sum = 0f;
                    for (int kk = 0; kk < k; kk++) {
                        sum += u[kk] * qkw[(c * k + kk) * 2 * rank * n + j];
                    }
                    r[j] = sum;
                }
                int base = (t * 4 + c) * perSlot;
                for (int i = 0; i < rank; i++) {
                    float inv = headRmsInverse(r, i * n, n);
                    for (int h = 0; h < n; h++) {
                        result[base + i * n + h] = r[i * n + h] * inv;
                        result[base + (rank + i) * n + h] = r[(rank + i) * n + h];
                    }
                }
                for (int h = 0; h < n; h++) {
                    float z = 0f;
                    for (int ee = 0; ee < e; ee++) {
                        z += as[t * e + ee] * dd[ee * 4 * n + c * n + h];
                    }
                    result[base + 2 * rank * n + h] = (float) Math.tanh(z);
                }
            }
        }
        write(ot, result);
    }

    @Override
    public KvCache allocateKvCache(KvCacheSpec spec) {
        ensureOpen();
        OpChecks.allocateKvCache(spec);
        NaiveKvCache cache = new NaiveKvCache(this, spec);
        liveTensors.incrementAndGet();
        liveBytes.addAndGet(cache.bytes());
        return cache;
    }

    @Override
    public void attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        OpChecks.AttentionSizes sizes = OpChecks.attentionPrefill(q, k, v, dyn, cache, spec, out);
        new NaiveAttention(this, spec).run("attentionPrefill", sizes, q, k, v, dyn, cache, out);
    }

    @Override
    public void attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec, Tensor out) {
        OpChecks.AttentionSizes sizes = OpChecks.attentionDecode(q, k, v, dyn, cache, spec, out);
        new NaiveAttention(this, spec).run("attentionDecode", sizes, q, k, v, dyn, cache, out);
    }

    /** Package access for {@link NaiveAttention}. */
    NaiveTensor tensorArg(Tensor t, String op) {
        return check(t, op);
    }

    NaiveKvCache cacheArg(KvCache cache, String op) {
        if (!(cache instanceof NaiveKvCache c) || c.owner() != this) {
            throw new IllegalStateException(op + ": cache belongs to another backend");
        }
        ensureOpen();
        c.ensureOpen();
        return c;
    }

    static void writeOut(NaiveTensor t, float[] values) {
        write(t, values);
    }

    /** Applies a compose matrix: {@code out[m] = Σ_n alpha[n] · matrix[n, m]}. */
    static void applyCompose(float[] alpha, float[] matrix, float[] out, int n) {
        for (int m = 0; m < n; m++) {
            float sum = 0f;
            for (int src = 0; src < n; src++) {
                sum += alpha[src] * matrix[src * n + m];
            }
            out[m] = sum;
        }
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
        if (closed) {
            throw new IllegalStateException("naive backend closed twice");
        }
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
            try {
                if (!pool.awaitTermination(10, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("naive backend workers did not stop within 10 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
