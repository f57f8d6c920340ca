package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.RopeSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.backend.cuda.launch.AttentionTiling;
import io.dcformer4j.backend.cuda.launch.Launch;
import io.dcformer4j.backend.cuda.launch.LaunchPlanner;
import io.dcformer4j.backend.cuda.launch.LaunchPlanner.AttentionBuffers;
import io.dcformer4j.backend.cuda.launch.LaunchPlanner.AttentionShape;
import io.dcformer4j.backend.cuda.launch.TypeCode;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The CUDA backend: tensors live in device memory, weights are uploaded once, every operation is a kernel
 * launch on the default stream (host copies synchronise). Operations are serialised on this object, which
 * also makes the driver context current on the calling thread, so several sessions may share it. Closing
 * frees every device buffer this instance allocated; the per-device context stays for the next backend.
 */
final class CudaBackend implements Backend {
    /** Synchronise after every launch (names a failing kernel); option {@code cuda.syncEachLaunch}. */
    static final String SYNC_OPTION = "cuda.syncEachLaunch";
    /** Device ordinal option. */
    static final String DEVICE_OPTION = "cuda.device";
    private static final long UPLOAD_CHUNK = 1L << 28;

    private final BackendOptions options;
    private final Device ctx;
    private final Launcher launcher;
    private final Map<String, DeviceBuffer> scratch = new HashMap<>();
    private final Map<RopeSpec, DeviceBuffer> invFreqs = new HashMap<>();
    private final Set<DeviceBuffer> owned = new HashSet<>();
    private long liveTensors;
    private long liveBytes;
    private boolean closed;

    CudaBackend(BackendOptions options, Device ctx, boolean syncEachLaunch) {
        this.options = options;
        this.ctx = ctx;
        this.launcher = l -> ctx.launch(l, syncEachLaunch);
    }

    /** Runs one planned launch. */
    @FunctionalInterface
    private interface Launcher {
        void launch(Launch l);
    }

    static CudaBackend open(BackendOptions options) {
        int ordinal;
        try {
            ordinal = Integer.parseInt(options.properties().getOrDefault(DEVICE_OPTION, "0").trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(DEVICE_OPTION + " must be a device ordinal, got '"
                    + options.properties().get(DEVICE_OPTION) + "'");
        }
        boolean sync = Boolean.parseBoolean(options.properties().getOrDefault(SYNC_OPTION,
                System.getProperty("dcformer4j." + SYNC_OPTION, "false")));
        String emulator = System.getProperty(EmulatedDevice.PROPERTY);
        if (emulator != null && !emulator.isBlank()) {
            return new CudaBackend(options, EmulatedDevice.load(java.nio.file.Path.of(emulator)), sync);
        }
        try {
            return new CudaBackend(options, CudaContext.forDevice(ordinal), sync);
        } catch (BackendUnavailableException e) {
            throw new BackendUnavailableException("cuda backend: cannot open device " + ordinal + ": " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("cuda backend: cannot open device " + ordinal + ": " + e, e);
        }
    }

    @Override
    public String name() {
        return CudaBackendProvider.NAME;
    }

    @Override
    public String description() {
        return ctx.description() + ", JCuda driver API, fused DCMHA kernels";
    }

    @Override
    public BackendOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ storage

    private void enter() {
        if (closed) {
            throw new IllegalStateException("cuda backend is closed");
        }
        ctx.makeCurrent();
    }

    private DeviceBuffer alloc(long bytes) {
        DeviceBuffer b = new DeviceBuffer(ctx.allocate(bytes), bytes);
        liveBytes += bytes;
        owned.add(b);
        return b;
    }

    synchronized void release(DeviceBuffer b) {
        if (!b.isFreed()) {
            ctx.makeCurrent();
            ctx.free(b.address);
            b.markFreed();
            liveBytes -= b.bytes;
            owned.remove(b);
        }
    }

    synchronized void countClosed() {
        liveTensors--;
    }

    private CudaTensor newTensor(DType dtype, Shape shape, String label) {
        if (dtype == null || shape == null) {
            throw new IllegalArgumentException("allocate " + label + ": dtype and shape are required");
        }
        DeviceBuffer b = alloc(shape.numel() * dtype.byteSize());
        liveTensors++;
        return new CudaTensor(this, b, 0, shape, dtype, label, true);
    }

    @Override
    public synchronized Tensor allocate(DType dtype, Shape shape, String label) {
        enter();
        return newTensor(dtype, shape, label);
    }

    @Override
    public synchronized Tensor fromFloats(DType dtype, Shape shape, float[] values, String label) {
        enter();
        if (dtype == DType.I32) {
            throw new IllegalArgumentException("fromFloats " + label + ": I32 is not a float type, use fromInts");
        }
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException("fromFloats " + label + ": shape " + shape + " needs " + shape.numel()
                    + " values, got " + values.length);
        }
        CudaTensor t = newTensor(dtype, shape, label);
        ctx.upload(t.buffer.address, 0, ByteBuffer.wrap(HostCodec.encode(dtype, values)));
        return t;
    }

    @Override
    public synchronized Tensor fromInts(Shape shape, int[] values, String label) {
        enter();
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException("fromInts " + label + ": shape " + shape + " needs " + shape.numel()
                    + " values, got " + values.length);
        }
        CudaTensor t = newTensor(DType.I32, shape, label);
        ctx.upload(t.buffer.address, 0, ByteBuffer.wrap(HostCodec.encodeInts(values)));
        return t;
    }

    @Override
    public synchronized Tensor weights(DType dtype, Shape shape, MemorySegment data, String label) {
        enter();
        long bytes = shape.numel() * dtype.byteSize();
        if (data.byteSize() < bytes) {
            throw new IllegalArgumentException("weights " + label + ": " + dtype + " " + shape + " needs " + bytes
                    + " bytes, the segment has " + data.byteSize());
        }
        CudaTensor t = newTensor(dtype, shape, label);
        for (long off = 0; off < bytes; off += UPLOAD_CHUNK) {
            long n = Math.min(UPLOAD_CHUNK, bytes - off);
            MemorySegment part = data.asSlice(off, n);
            ByteBuffer host = part.isNative() ? part.asByteBuffer() : ByteBuffer.wrap(part.toArray(ValueLayout.JAVA_BYTE));
            ctx.upload(t.buffer.address, off, host);
        }
        return t;
    }

    @Override
    public synchronized Tensor view(Tensor tensor, Shape shape) {
        CudaTensor t = own(tensor, "view", "tensor");
        if (shape.numel() != t.shape().numel()) {
            throw new IllegalArgumentException("view of " + t.label() + ": shape " + t.shape() + " has "
                    + t.shape().numel() + " elements, " + shape + " has " + shape.numel());
        }
        return new CudaTensor(this, t.buffer, t.byteOffset, shape, t.dtype(), t.label(), false);
    }

    @Override
    public synchronized Tensor slice(Tensor tensor, int start, int end) {
        CudaTensor t = own(tensor, "slice", "tensor");
        Shape s = t.shape();
        if (s.rank() == 0 || start < 0 || end < start || end > s.dim(0)) {
            throw new IllegalArgumentException("slice of " + t.label() + " " + s + ": rows [" + start + ", " + end
                    + ") out of range");
        }
        long rowBytes = s.dim(0) == 0 ? 0 : s.numel() / s.dim(0) * t.dtype().byteSize();
        return new CudaTensor(this, t.buffer, t.byteOffset + start * rowBytes, s.withDim0(end - start), t.dtype(),
                t.label() + "[" + start + ":" + end + "]", false);
    }

    @Override
    public synchronized void copy(Tensor src, Tensor dst) {
        CudaTensor s = own(src, "copy", "src");
        CudaTensor d = own(dst, "copy", "dst");
        if (s.shape().numel() != d.shape().numel()) {
            throw new IllegalArgumentException("copy: src " + s.label() + " " + s.shape() + " and dst " + d.label()
                    + " " + d.shape() + " differ in element count");
        }
        if (s.shape().numel() == 0) {
            return;
        }
        enter();
        if (s.dtype() == d.dtype()) {
            ctx.copy(d.buffer.address, d.byteOffset, s.buffer.address, s.byteOffset, s.byteSize());
        } else if (s.dtype().isFloating() && d.dtype().isFloating()) {
            launcher.launch(LaunchPlanner.convert(s.address(), TypeCode.of(s.dtype()), d.address(), TypeCode.of(d.dtype()),
                    s.shape().numel()));
        } else {
            throw new IllegalArgumentException("copy: cannot convert " + s.label() + " (" + s.dtype() + ") to "
                    + d.label() + " (" + d.dtype() + ")");
        }
    }

    synchronized float[] download(CudaTensor t) {
        enter();
        byte[] bytes = new byte[Math.toIntExact(t.byteSize())];
        ctx.download(t.buffer.address, t.byteOffset, bytes);
        return HostCodec.decode(t.dtype(), bytes);
    }

    synchronized int[] downloadInts(CudaTensor t) {
        enter();
        byte[] bytes = new byte[Math.toIntExact(t.byteSize())];
        ctx.download(t.buffer.address, t.byteOffset, bytes);
        return HostCodec.decodeInts(bytes);
    }

    synchronized void upload(CudaTensor t, byte[] bytes) {
        enter();
        ctx.upload(t.buffer.address, t.byteOffset, ByteBuffer.wrap(bytes));
    }

    /** Waits until every launched kernel has finished (for timing). */
    synchronized void synchronize() {
        enter();
        ctx.synchronize();
    }

    // ------------------------------------------------------------------ checks

    private CudaTensor own(Tensor t, String op, String role) {
        if (t == null) {
            throw new IllegalArgumentException(op + ": " + role + " is null");
        }
        if (!(t instanceof CudaTensor c) || c.backend() != this) {
            throw new IllegalStateException(op + ": " + role + " " + t.label() + " belongs to another backend ("
                    + t.backend().name() + ")");
        }
        c.checkOpen(op);
        return c;
    }

    private CudaTensor f32(Tensor t, String op, String role) {
        CudaTensor c = own(t, op, role);
        if (c.dtype() != DType.F32) {
            throw new IllegalArgumentException(op + ": " + role + " " + c.label() + " is " + c.dtype() + ", expected F32");
        }
        return c;
    }

    private CudaTensor floating(Tensor t, String op, String role) {
        CudaTensor c = own(t, op, role);
        if (!c.dtype().isFloating()) {
            throw new IllegalArgumentException(op + ": " + role + " " + c.label() + " is " + c.dtype()
                    + ", expected a float type");
        }
        return c;
    }

    private static void sameNumel(String op, CudaTensor a, CudaTensor b) {
        if (a.shape().numel() != b.shape().numel()) {
            throw new IllegalArgumentException(op + ": " + b.label() + " has shape " + b.shape() + ", expected "
                    + a.shape().numel() + " elements like " + a.label() + " " + a.shape());
        }
    }

    private static void expectShape(String op, CudaTensor t, long rows, long cols) {
        if (t.shape().rows() != rows || t.shape().cols() != cols) {
            throw new IllegalArgumentException(op + ": " + t.label() + " has shape " + t.shape() + ", expected ["
                    + rows + ", " + cols + "]");
        }
    }

    private static boolean overlaps(CudaTensor a, CudaTensor b) {
        return a.buffer == b.buffer && a.byteOffset < b.byteOffset + b.byteSize()
                && b.byteOffset < a.byteOffset + a.byteSize();
    }

    private static int typeOf(CudaTensor t) {
        return t == null ? 0 : TypeCode.of(t.dtype());
    }

    private static long addr(CudaTensor t) {
        return t == null ? 0L : t.address();
    }

    private DeviceBuffer scratch(String name, long bytes) {
        DeviceBuffer b = scratch.get(name);
        if (b == null || b.bytes < bytes) {
            if (b != null) {
                release(b);
            }
            b = alloc(Math.max(bytes, 256));
            scratch.put(name, b);
        }
        return b;
    }

    // ------------------------------------------------------------------ operations

    @Override
    public synchronized void embedding(Tensor table, int[] tokens, Tensor out) {
        CudaTensor tb = floating(table, "embedding", "table");
        CudaTensor o = f32(out, "embedding", "out");
        if (tb.shape().rank() != 2) {
            throw new IllegalArgumentException("embedding: table " + tb.label() + " has shape " + tb.shape()
                    + ", expected [V, E]");
        }
        int v = tb.shape().dim(0);
        int e = tb.shape().dim(1);
        expectShape("embedding", o, tokens.length, e);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= v) {
                throw new IllegalArgumentException("embedding: token id " + tokens[i] + " at index " + i
                        + " is out of range [0, " + v + ") of " + tb.label());
            }
        }
        if (tokens.length == 0 || e == 0) {
            return;
        }
        enter();
        DeviceBuffer ids = scratch("tokens", 4L * tokens.length);
        ctx.upload(ids.address, 0, ByteBuffer.wrap(HostCodec.encodeInts(tokens)));
        launcher.launch(LaunchPlanner.embedding(tb.address(), typeOf(tb), ids.address, o.address(), tokens.length, e));
    }

    @Override
    public synchronized void linear(Tensor x, Tensor w, Tensor bias, Tensor out) {
        CudaTensor xt = f32(x, "linear", "x");
        CudaTensor wt = floating(w, "linear", "w");
        CudaTensor ot = f32(out, "linear", "out");
        CudaTensor bt = bias == null ? null : floating(bias, "linear", "bias");
        if (wt.shape().rank() != 2) {
            throw new IllegalArgumentException("linear: w " + wt.label() + " has shape " + wt.shape()
                    + ", expected [out, in]");
        }
        int outF = wt.shape().dim(0);
        int inF = wt.shape().dim(1);
        if (xt.shape().cols() != inF) {
            throw new IllegalArgumentException("linear: x " + xt.label() + " has shape " + xt.shape() + ", expected [T, "
                    + inF + "] for w " + wt.label() + " " + wt.shape());
        }
        long rows = xt.shape().rows();
        expectShape("linear", ot, rows, outF);
        if (bt != null && bt.shape().numel() != outF) {
            throw new IllegalArgumentException("linear: bias " + bt.label() + " has shape " + bt.shape() + ", expected ["
                    + outF + "]");
        }
        if (overlaps(xt, ot)) {
            throw new IllegalArgumentException("linear: out " + ot.label() + " overlaps x " + xt.label());
        }
        if (rows == 0 || outF == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.linear(wt.dtype(), xt.address(), wt.address(), addr(bt), typeOf(bt), ot.address(),
                Math.toIntExact(rows), outF, inF));
    }

    @Override
    public synchronized void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        CudaTensor xt = f32(x, "rmsNorm", "x");
        CudaTensor gt = floating(gain, "rmsNorm", "gain");
        CudaTensor ot = f32(out, "rmsNorm", "out");
        long g = gt.shape().numel();
        if (g == 0 || xt.shape().numel() % g != 0) {
            throw new IllegalArgumentException("rmsNorm: x " + xt.label() + " " + xt.shape()
                    + " is not a whole number of groups of gain " + gt.label() + " " + gt.shape());
        }
        sameNumel("rmsNorm", xt, ot);
        if (xt.shape().numel() == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.rmsNorm(xt.address(), gt.address(), typeOf(gt), ot.address(), xt.shape().numel() / g,
                (int) g, eps));
    }

    @Override
    public synchronized void layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out) {
        CudaTensor xt = f32(x, "layerNorm", "x");
        CudaTensor gt = floating(gain, "layerNorm", "gain");
        CudaTensor bt = bias == null ? null : floating(bias, "layerNorm", "bias");
        CudaTensor ot = f32(out, "layerNorm", "out");
        int e = xt.shape().cols();
        if (gt.shape().numel() != e || (bt != null && bt.shape().numel() != e)) {
            throw new IllegalArgumentException("layerNorm: gain " + gt.label() + " " + gt.shape()
                    + (bt == null ? "" : " and bias " + bt.label() + " " + bt.shape()) + " must have " + e + " elements");
        }
        sameNumel("layerNorm", xt, ot);
        if (xt.shape().numel() == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.layerNorm(xt.address(), gt.address(), typeOf(gt), addr(bt), typeOf(bt), ot.address(),
                xt.shape().rows(), e, eps));
    }

    @Override
    public synchronized void rope(Tensor x, int startPos, RopeSpec spec, Tensor out) {
        CudaTensor xt = f32(x, "rope", "x");
        CudaTensor ot = f32(out, "rope", "out");
        int d = spec.headDim();
        if (xt.shape().cols() % d != 0) {
            throw new IllegalArgumentException("rope: x " + xt.label() + " has shape " + xt.shape()
                    + ", expected [T, H*" + d + "]");
        }
        sameNumel("rope", xt, ot);
        if (startPos < 0) {
            throw new IllegalArgumentException("rope: startPos must be ≥ 0, got " + startPos);
        }
        int t = Math.toIntExact(xt.shape().rows());
        int h = xt.shape().cols() / d;
        if (t == 0 || h == 0) {
            return;
        }
        enter();
        DeviceBuffer inv = invFreqs.get(spec);
        if (inv == null) {
            float[] f = new float[Math.max(1, spec.rotaryDim() / 2)];
            for (int j = 0; j < spec.rotaryDim() / 2; j++) {
                f[j] = spec.invFreq(j);
            }
            inv = alloc(4L * f.length);
            ctx.upload(inv.address, 0, ByteBuffer.wrap(HostCodec.encode(DType.F32, f)));
            invFreqs.put(spec, inv);
        }
        launcher.launch(LaunchPlanner.rope(xt.address(), ot.address(), inv.address, t, h, d, spec.rotaryDim(), startPos));
    }

    @Override
    public synchronized void swiglu(Tensor gate, Tensor up, Tensor out) {
        CudaTensor g = f32(gate, "swiglu", "gate");
        CudaTensor u = f32(up, "swiglu", "up");
        CudaTensor o = f32(out, "swiglu", "out");
        sameNumel("swiglu", g, u);
        sameNumel("swiglu", g, o);
        if (g.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.swiglu(g.address(), u.address(), o.address(), g.shape().numel()));
        }
    }

    @Override
    public synchronized void mgate(Tensor u, Tensor gateLogits, Tensor out) {
        CudaTensor ut = f32(u, "mgate", "u");
        CudaTensor gt = f32(gateLogits, "mgate", "gateLogits");
        CudaTensor ot = f32(out, "mgate", "out");
        int f = ut.shape().cols();
        int mg = gt.shape().cols();
        long t = ut.shape().rows();
        if (gt.shape().rows() != t || mg == 0 || f % mg != 0) {
            throw new IllegalArgumentException("mgate: gateLogits " + gt.label() + " " + gt.shape() + " must be [" + t
                    + ", Mg] with Mg dividing F = " + f + " of u " + ut.label());
        }
        sameNumel("mgate", ut, ot);
        if (t > 0 && f > 0) {
            enter();
            launcher.launch(LaunchPlanner.mgate(ut.address(), gt.address(), ot.address(), Math.toIntExact(t), f, mg));
        }
    }

    @Override
    public synchronized void gelu(Tensor x, Tensor out) {
        CudaTensor xt = f32(x, "gelu", "x");
        CudaTensor ot = f32(out, "gelu", "out");
        sameNumel("gelu", xt, ot);
        if (xt.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.gelu(xt.address(), ot.address(), xt.shape().numel()));
        }
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out) {
        CudaTensor at = f32(a, "add", "a");
        CudaTensor bt = f32(b, "add", "b");
        CudaTensor ot = f32(out, "add", "out");
        if (!at.shape().equals(bt.shape())) {
            throw new IllegalArgumentException("add: b " + bt.label() + " has shape " + bt.shape() + ", expected "
                    + at.shape() + " like a " + at.label());
        }
        sameNumel("add", at, ot);
        if (at.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.add(at.address(), bt.address(), ot.address(), at.shape().numel()));
        }
    }

    @Override
    public synchronized void softmax(Tensor x, Tensor out) {
        CudaTensor xt = f32(x, "softmax", "x");
        CudaTensor ot = f32(out, "softmax", "out");
        sameNumel("softmax", xt, ot);
        if (xt.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.softmax(xt.address(), ot.address(), xt.shape().rows(), xt.shape().cols()));
        }
    }

    @Override
    public synchronized void dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out) {
        CudaTensor at = f32(a, "dynamicWeights", "a");
        CudaTensor dw1 = floating(params.dw1(), "dynamicWeights", "dw1");
        CudaTensor qkw = floating(params.qkw(), "dynamicWeights", "qkw");
        CudaTensor dd = floating(params.dd(), "dynamicWeights", "dd");
        CudaTensor ot = f32(out, "dynamicWeights", "out");
        int e = params.dim();
        int n = params.numHeads();
        int rank = params.rank();
        int k = params.hidden();
        if (at.shape().cols() != e) {
            throw new IllegalArgumentException("dynamicWeights: a " + at.label() + " has shape " + at.shape()
                    + ", expected [T, " + e + "]");
        }
        long t = at.shape().rows();
        long perToken = 4L * (2L * rank + 1) * n;
        if (ot.shape().numel() != t * perToken) {
            throw new IllegalArgumentException("dynamicWeights: out " + ot.label() + " has shape " + ot.shape()
                    + ", expected [" + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
        }
        if (t == 0) {
            return;
        }
        enter();
        DeviceBuffer hid = scratch("dw-hidden", 4L * LaunchPlanner.dynamicHiddenFloats(Math.toIntExact(t), k, n));
        for (Launch l : LaunchPlanner.dynamicWeights(at.address(), dw1.address(), typeOf(dw1), dd.address(), typeOf(dd),
                qkw.address(), typeOf(qkw), hid.address, ot.address(), Math.toIntExact(t), e, k, n, rank)) {
            launcher.launch(l);
        }
    }

    @Override
    public synchronized KvCache allocateKvCache(KvCacheSpec spec) {
        enter();
        long kv = 4L * spec.capacity() * spec.numHeads() * spec.headDim();
        DeviceBuffer keys = alloc(kv);
        DeviceBuffer values = alloc(kv);
        DeviceBuffer side = spec.keySide() ? alloc(4L * spec.capacity() * spec.keySidePerToken()) : null;
        liveTensors++;
        return new CudaKvCache(this, spec, keys, values, side);
    }

    @Override
    public synchronized void attentionPrefill(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec,
                                              Tensor out) {
        attention("attentionPrefill", q, k, v, dyn, cache, spec, out, false);
    }

    @Override
    public synchronized void attentionDecode(Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache cache, AttentionSpec spec,
                                             Tensor out) {
        attention("attentionDecode", q, k, v, dyn, cache, spec, out, true);
    }

    private void attention(String op, Tensor q, Tensor k, Tensor v, Tensor dyn, KvCache kvCache, AttentionSpec spec,
                           Tensor out, boolean decode) {
        if (spec == null || kvCache == null) {
            throw new IllegalArgumentException(op + ": spec and cache are required");
        }
        if (!(kvCache instanceof CudaKvCache cache) || cache.owner() != this) {
            throw new IllegalStateException(op + ": the cache belongs to another backend");
        }
        if (cache.isClosed()) {
            throw new IllegalStateException(op + ": the cache is closed");
        }
        int n = spec.numHeads();
        int d = spec.headDim();
        int nd = n * d;
        CudaTensor qt = f32(q, op, "q");
        CudaTensor kt = f32(k, op, "k");
        CudaTensor vt = f32(v, op, "v");
        CudaTensor ot = f32(out, op, "out");
        int t = Math.toIntExact(qt.shape().rows());
        expectShape(op, qt, t, nd);
        expectShape(op, kt, t, nd);
        expectShape(op, vt, t, nd);
        expectShape(op, ot, t, nd);
        if (decode && t != 1) {
            throw new IllegalArgumentException(op + ": decode takes one token, q " + qt.label() + " has " + t + " rows");
        }
        AttentionMode mode = spec.mode();
        int rank = mode == AttentionMode.PLAIN_MHA ? 0 : spec.rank();
        CudaTensor dt = null;
        if (mode.usesDynamicWeights()) {
            if (dyn == null) {
                throw new IllegalArgumentException(op + ": mode " + mode + " needs the dynamic weights tensor dyn");
            }
            dt = f32(dyn, op, "dyn");
            if (dt.shape().numel() != (long) t * spec.dynamicWeightsPerToken()) {
                throw new IllegalArgumentException(op + ": dyn " + dt.label() + " has shape " + dt.shape()
                        + ", expected [" + t + ", 4, " + (2 * rank + 1) + ", " + n + "]");
            }
            if (rank > AttentionTiling.MAX_RANK) {
                throw new IllegalArgumentException(op + ": compose rank " + rank + " exceeds the kernels' maximum "
                        + AttentionTiling.MAX_RANK);
            }
        }
        KvCacheSpec cs = cache.spec();
        if (cs.numHeads() != n || cs.headDim() != d) {
            throw new IllegalArgumentException(op + ": cache has " + cs.numHeads() + " heads of " + cs.headDim()
                    + ", the spec " + n + " of " + d);
        }
        if (mode.usesKeySide() && (!cs.keySide() || cs.rank() != rank)) {
            throw new IllegalArgumentException(op + ": DCMHA needs a key-side cache of rank " + rank + ", the cache has "
                    + (cs.keySide() ? "rank " + cs.rank() : "none"));
        }
        int length = cache.length();
        int cap = cs.capacity();
        boolean prefillCall = t > 1;
        int window = spec.isLocal() ? spec.window() + (prefillCall && spec.windowPlusOneInPrefill() ? 1 : 0) : 0;
        if (!spec.isLocal() && cap < (long) length + t) {
            throw new IllegalArgumentException(op + ": global layer cache capacity " + cap + " is smaller than "
                    + (length + t) + " positions (" + length + " cached + " + t + " new)");
        }
        int ringNeeded = spec.window() + (spec.windowPlusOneInPrefill() ? 1 : 0);
        if (spec.isLocal() && cap < ringNeeded) {
            throw new IllegalArgumentException(op + ": local layer with window " + spec.window() + " needs a ring of at least "
                    + ringNeeded + " slots, the cache has " + cap);
        }
        CudaTensor spre = null;
        CudaTensor spost = null;
        if (spec.staticPre() != null && mode != AttentionMode.PLAIN_MHA) {
            spre = floating(spec.staticPre(), op, "staticPre");
            spost = floating(spec.staticPost(), op, "staticPost");
            if (spre.shape().numel() != (long) n * n || spost.shape().numel() != (long) n * n || spre.dtype() != spost.dtype()) {
                throw new IllegalArgumentException(op + ": static weights " + spre.label() + " " + spre.shape() + " and "
                        + spost.label() + " " + spost.shape() + " must both be [" + n + ", " + n + "] of one dtype");
            }
        }
        if (overlaps(ot, qt) || overlaps(ot, kt) || overlaps(ot, vt)) {
            throw new IllegalArgumentException(op + ": out " + ot.label() + " overlaps q, k or v");
        }
        if (t == 0) {
            return;
        }
        enter();
        int modeCode = switch (mode) {
            case DCMHA -> 0;
            case QUERY_WISE -> 1;
            case PLAIN_MHA -> 2;
        };
        AttentionBuffers buffers = new AttentionBuffers(qt.address(), kt.address(), vt.address(), addr(dt),
                cache.keys.address, cache.values.address,
                cache.keySide == null ? 0 : cache.keySide.address, addr(spre), addr(spost), ot.address());
        AttentionShape shape = new AttentionShape(t, length, cap, n, d, rank, modeCode, window, typeOf(spre));
        boolean staticWeights = spre != null;
        if (decode) {
            int first = window == 0 ? 0 : Math.max(0, length - window + 1);
            AttentionTiling.Decode tiling = AttentionTiling.decode(length - first + 1, n, staticWeights,
                    AttentionTiling.DEFAULT_SHARED_BUDGET);
            LaunchPlanner.DecodeScratch s = new LaunchPlanner.DecodeScratch(
                    scratch("decode-logits", 4L * tiling.logitFloats(n)).address,
                    scratch("decode-partial", 4L * tiling.partialFloats(n)).address,
                    scratch("decode-lse", 4L * n).address,
                    scratch("decode-opart", 4L * tiling.outputPartialFloats(n, d)).address);
            for (Launch l : LaunchPlanner.attentionDecode(buffers, shape, tiling, s)) {
                launcher.launch(l);
            }
        } else {
            AttentionTiling.Prefill tiling = AttentionTiling.prefill(t, n, staticWeights,
                    AttentionTiling.DEFAULT_SHARED_BUDGET);
            launcher.launch(LaunchPlanner.attentionPrefill(buffers, shape, tiling));
        }
        launcher.launch(LaunchPlanner.kvAppend(buffers, shape, mode.usesKeySide()));
        cache.advance(t);
    }

    /**
     * The unfused baseline (benchmarks only): the attention of a prefill from position 0 over the T fresh
     * tokens, through a materialised [N, T, T] score tensor; no cache is read or written. Same arguments as
     * {@link #attentionPrefill} without the cache; static weights are not supported here.
     */
    synchronized void attentionUnfused(Tensor q, Tensor k, Tensor v, Tensor dyn, AttentionSpec spec, Tensor out) {
        String op = "attentionUnfused";
        int n = spec.numHeads();
        int d = spec.headDim();
        CudaTensor qt = f32(q, op, "q");
        CudaTensor kt = f32(k, op, "k");
        CudaTensor vt = f32(v, op, "v");
        CudaTensor ot = f32(out, op, "out");
        int t = Math.toIntExact(qt.shape().rows());
        for (CudaTensor x : List.of(qt, kt, vt, ot)) {
            expectShape(op, x, t, (long) n * d);
        }
        CudaTensor dt = spec.mode().usesDynamicWeights() ? f32(dyn, op, "dyn") : null;
        if (spec.staticPre() != null) {
            throw new IllegalArgumentException(op + ": static compose weights are not supported by the baseline");
        }
        if (t == 0) {
            return;
        }
        enter();
        int window = spec.isLocal() ? spec.window() + (t > 1 && spec.windowPlusOneInPrefill() ? 1 : 0) : 0;
        int modeCode = switch (spec.mode()) {
            case DCMHA -> 0;
            case QUERY_WISE -> 1;
            case PLAIN_MHA -> 2;
        };
        int rank = spec.mode() == AttentionMode.PLAIN_MHA ? 0 : spec.rank();
        DeviceBuffer scores = scratch("unfused-scores", 4L * n * t * t);
        AttentionBuffers buffers = new AttentionBuffers(qt.address(), kt.address(), vt.address(), addr(dt), 0, 0, 0, 0, 0,
                ot.address());
        AttentionShape shape = new AttentionShape(t, 0, t, n, d, rank, modeCode, window, 0);
        for (Launch l : LaunchPlanner.attentionUnfused(buffers, shape, scores.address, 0)) {
            launcher.launch(l);
        }
    }

    // ------------------------------------------------------------------ bookkeeping

    @Override
    public synchronized long liveTensors() {
        return liveTensors;
    }

    @Override
    public synchronized long liveBytes() {
        long internal = 0;
        for (DeviceBuffer b : scratch.values()) {
            internal += b.bytes;
        }
        for (DeviceBuffer b : invFreqs.values()) {
            internal += b.bytes;
        }
        return liveBytes - internal;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        ctx.makeCurrent();
        // The device context outlives this backend: free everything it still holds, tensors left open included
        // (they report closed afterwards).
        for (DeviceBuffer b : List.copyOf(owned)) {
            release(b);
        }
        scratch.clear();
        invFreqs.clear();
        closed = true;
    }
}
