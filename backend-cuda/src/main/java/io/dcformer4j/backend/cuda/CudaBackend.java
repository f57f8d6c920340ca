package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.api.BatchChecks;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.DynamicWeightParams;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.OpChecks;
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
import java.util.ArrayList;
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
        } catch (LinkageError e) {
            // JCuda's classes or its JNI library missing from the path, or native access refused.
            throw new BackendUnavailableException("cuda backend: cannot open device " + ordinal + ": " + e + "; "
                    + JCudaSetup.HINT, e);
        } catch (RuntimeException e) {
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
        long bytes = OpChecks.allocate(dtype, shape, label);
        DeviceBuffer b = alloc(bytes);
        liveTensors++;
        return new CudaTensor(this, b, 0, shape, dtype, label, true);
    }

    /** Every dtype, Q8_0 included (as {@code linear} weights: its kernels read the int8 blocks). */
    @Override
    public boolean supportsWeights(DType dtype) {
        return true;
    }

    @Override
    public synchronized Tensor allocate(DType dtype, Shape shape, String label) {
        enter();
        return newTensor(dtype, shape, label);
    }

    @Override
    public synchronized Tensor fromFloats(DType dtype, Shape shape, float[] values, String label) {
        enter();
        OpChecks.fromFloats(dtype, shape, values, label);
        OpChecks.requireSupported(this, "fromFloats", dtype, label);
        CudaTensor t = newTensor(dtype, shape, label);
        ctx.upload(t.buffer.address, 0, ByteBuffer.wrap(HostCodec.encode(dtype, values)));
        return t;
    }

    @Override
    public synchronized Tensor fromInts(Shape shape, int[] values, String label) {
        enter();
        OpChecks.fromInts(shape, values, label);
        CudaTensor t = newTensor(DType.I32, shape, label);
        ctx.upload(t.buffer.address, 0, ByteBuffer.wrap(HostCodec.encodeInts(values)));
        return t;
    }

    @Override
    public synchronized Tensor weights(DType dtype, Shape shape, MemorySegment data, String label) {
        enter();
        long bytes = OpChecks.weights(dtype, shape, data, label);
        OpChecks.requireSupported(this, "weights", dtype, label);
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
        OpChecks.view(tensor, shape);
        CudaTensor t = own(tensor, "view", "tensor");
        return new CudaTensor(this, t.buffer, t.byteOffset, shape, t.dtype(), t.label(), false);
    }

    @Override
    public synchronized Tensor slice(Tensor tensor, int start, int end) {
        OpChecks.ViewSizes v = OpChecks.slice(tensor, start, end);
        CudaTensor t = own(tensor, "slice", "tensor");
        return new CudaTensor(this, t.buffer, t.byteOffset + t.dtype().bytesFor(v.firstElement()), v.shape(), t.dtype(),
                t.label() + "[" + start + ":" + end + "]", false);
    }

    @Override
    public synchronized void copy(Tensor src, Tensor dst) {
        long n = OpChecks.copy(src, dst);
        CudaTensor s = own(src, "copy", "src");
        CudaTensor d = own(dst, "copy", "dst");
        if (n == 0) {
            return;
        }
        enter();
        if (s.dtype() == d.dtype()) {
            ctx.copy(d.buffer.address, d.byteOffset, s.buffer.address, s.byteOffset, s.byteSize());
        } else {
            launcher.launch(LaunchPlanner.convert(s.address(), TypeCode.of(s.dtype()), d.address(), TypeCode.of(d.dtype()), n));
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
        int e = OpChecks.embedding(table, tokens, out).width();
        CudaTensor tb = own(table, "embedding", "table");
        CudaTensor o = own(out, "embedding", "out");
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
        OpChecks.LinearSizes sizes = OpChecks.linear(x, w, bias, out);
        CudaTensor xt = own(x, "linear", "x");
        CudaTensor wt = own(w, "linear", "w");
        CudaTensor ot = own(out, "linear", "out");
        CudaTensor bt = bias == null ? null : own(bias, "linear", "bias");
        int rows = sizes.rows();
        int outF = sizes.out();
        int inF = sizes.in();
        if (overlaps(xt, ot)) {
            throw new IllegalArgumentException("linear: out " + ot.label() + " overlaps x " + xt.label());
        }
        if (rows == 0 || outF == 0) {
            return;
        }
        enter();
        long weights = wt.address();
        if (wt.dtype() == DType.Q8_0 && rows >= LaunchPlanner.GEMV_MAX_ROWS) {
            // a prefill reads each weight many times: widen the blocks once, then the F32 GEMM
            DeviceBuffer wide = scratch("q8-widened", 4L * outF * inF);
            launcher.launch(LaunchPlanner.dequantQ8(weights, wide.address, (long) outF * inF));
            weights = wide.address;
        }
        launcher.launch(LaunchPlanner.linear(wt.dtype(), xt.address(), weights, addr(bt), typeOf(bt), ot.address(),
                rows, outF, inF));
    }

    @Override
    public synchronized void rmsNorm(Tensor x, Tensor gain, float eps, Tensor out) {
        OpChecks.GroupSizes sizes = OpChecks.rmsNorm(x, gain, eps, out);
        CudaTensor xt = own(x, "rmsNorm", "x");
        CudaTensor gt = own(gain, "rmsNorm", "gain");
        CudaTensor ot = own(out, "rmsNorm", "out");
        if (sizes.groups() == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.rmsNorm(xt.address(), gt.address(), typeOf(gt), ot.address(), sizes.groups(),
                sizes.groupSize(), eps));
    }

    @Override
    public synchronized void layerNorm(Tensor x, Tensor gain, Tensor bias, float eps, Tensor out) {
        OpChecks.RowSizes sizes = OpChecks.layerNorm(x, gain, bias, eps, out);
        CudaTensor xt = own(x, "layerNorm", "x");
        CudaTensor gt = own(gain, "layerNorm", "gain");
        CudaTensor bt = bias == null ? null : own(bias, "layerNorm", "bias");
        CudaTensor ot = own(out, "layerNorm", "out");
        int e = sizes.width();
        if (xt.shape().numel() == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.layerNorm(xt.address(), gt.address(), typeOf(gt), addr(bt), typeOf(bt), ot.address(),
                xt.shape().rows(), e, eps));
    }

    @Override
    public synchronized void rope(Tensor x, int startPos, RopeSpec spec, Tensor out) {
        OpChecks.RopeSizes sizes = OpChecks.rope(x, startPos, spec, out);
        CudaTensor xt = own(x, "rope", "x");
        CudaTensor ot = own(out, "rope", "out");
        int d = sizes.headDim();
        int t = sizes.rows();
        int h = sizes.heads();
        if (t == 0 || h == 0) {
            return;
        }
        enter();
        launcher.launch(LaunchPlanner.rope(xt.address(), ot.address(), invFreq(spec).address, t, h, d, spec.rotaryDim(),
                startPos));
    }

    /** One launch for all rows, row t at its own position (the SPI's default would launch once per row). */
    @Override
    public synchronized void ropeRows(Tensor x, int[] positions, RopeSpec spec, Tensor out) {
        int t = BatchChecks.ropeRows(x, positions, spec, out);
        CudaTensor xt = own(x, "ropeRows", "x");
        CudaTensor ot = own(out, "ropeRows", "out");
        int d = spec.headDim();
        int h = xt.shape().cols() / d;
        if (t == 0 || h == 0) {
            return;
        }
        enter();
        DeviceBuffer pos = scratch("rope-positions", 4L * t);
        ctx.upload(pos.address, 0, ByteBuffer.wrap(HostCodec.encodeInts(positions)));
        launcher.launch(LaunchPlanner.ropeRows(xt.address(), ot.address(), invFreq(spec).address, pos.address, t, h, d,
                spec.rotaryDim()));
    }

    /** The inverse frequencies of a RoPE spec on the device, uploaded on first use. */
    private DeviceBuffer invFreq(RopeSpec spec) {
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
        return inv;
    }

    @Override
    public synchronized void swiglu(Tensor gate, Tensor up, Tensor out) {
        OpChecks.swiglu(gate, up, out);
        CudaTensor g = own(gate, "swiglu", "gate");
        CudaTensor u = own(up, "swiglu", "up");
        CudaTensor o = own(out, "swiglu", "out");
        if (g.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.swiglu(g.address(), u.address(), o.address(), g.shape().numel()));
        }
    }

    @Override
    public synchronized void mgate(Tensor u, Tensor gateLogits, Tensor out) {
        OpChecks.MgateSizes sizes = OpChecks.mgate(u, gateLogits, out);
        CudaTensor ut = own(u, "mgate", "u");
        CudaTensor gt = own(gateLogits, "mgate", "gateLogits");
        CudaTensor ot = own(out, "mgate", "out");
        int f = sizes.width();
        int t = sizes.rows();
        if (t > 0 && f > 0) {
            enter();
            launcher.launch(LaunchPlanner.mgate(ut.address(), gt.address(), ot.address(), t, f, sizes.groups()));
        }
    }

    @Override
    public synchronized void gelu(Tensor x, Tensor out) {
        OpChecks.gelu(x, out);
        CudaTensor xt = own(x, "gelu", "x");
        CudaTensor ot = own(out, "gelu", "out");
        if (xt.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.gelu(xt.address(), ot.address(), xt.shape().numel()));
        }
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out) {
        OpChecks.add(a, b, out);
        CudaTensor at = own(a, "add", "a");
        CudaTensor bt = own(b, "add", "b");
        CudaTensor ot = own(out, "add", "out");
        if (at.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.add(at.address(), bt.address(), ot.address(), at.shape().numel()));
        }
    }

    @Override
    public synchronized void softmax(Tensor x, Tensor out) {
        OpChecks.softmax(x, out);
        CudaTensor xt = own(x, "softmax", "x");
        CudaTensor ot = own(out, "softmax", "out");
        if (xt.shape().numel() > 0) {
            enter();
            launcher.launch(LaunchPlanner.softmax(xt.address(), ot.address(), xt.shape().rows(), xt.shape().cols()));
        }
    }

    @Override
    public synchronized void dynamicWeights(Tensor a, DynamicWeightParams params, Tensor out) {
        OpChecks.DynamicWeightSizes sizes = OpChecks.dynamicWeights(a, params, out);
        CudaTensor at = own(a, "dynamicWeights", "a");
        CudaTensor dw1 = own(params.dw1(), "dynamicWeights", "dw1");
        CudaTensor qkw = own(params.qkw(), "dynamicWeights", "qkw");
        CudaTensor dd = own(params.dd(), "dynamicWeights", "dd");
        CudaTensor ot = own(out, "dynamicWeights", "out");
        int e = sizes.dim();
        int n = sizes.heads();
        int rank = sizes.rank();
        int k = sizes.hidden();
        int t = sizes.rows();
        if (t == 0) {
            return;
        }
        enter();
        DeviceBuffer hid = scratch("dw-hidden", 4L * LaunchPlanner.dynamicHiddenFloats(t, k, n));
        for (Launch l : LaunchPlanner.dynamicWeights(at.address(), dw1.address(), typeOf(dw1), dd.address(), typeOf(dd),
                qkw.address(), typeOf(qkw), hid.address, ot.address(), t, e, k, n, rank)) {
            launcher.launch(l);
        }
    }

    @Override
    public synchronized void dynamicWeightsFromProjection(Tensor projected, DynamicWeightParams params, Tensor out) {
        String op = "dynamicWeightsFromProjection";
        OpChecks.DynamicWeightSizes sizes = OpChecks.dynamicWeightsFromProjection(projected, params, out);
        CudaTensor pt = own(projected, op, "projected");
        CudaTensor qkw = own(params.qkw(), op, "qkw");
        CudaTensor ot = own(out, op, "out");
        // dw1 and dd are not read (the caller applied them), so they may live anywhere. projected may even share
        // storage with out: it is only read into the hidden scratch, before out is written.
        int n = sizes.heads();
        int rank = sizes.rank();
        int k = sizes.hidden();
        int t = sizes.rows();
        if (t == 0) {
            return;
        }
        enter();
        DeviceBuffer hid = scratch("dw-hidden", 4L * LaunchPlanner.dynamicHiddenFloats(t, k, n));
        for (Launch l : LaunchPlanner.dynamicWeightsFromProjection(pt.address(), qkw.address(), typeOf(qkw), hid.address,
                ot.address(), t, k, n, rank)) {
            launcher.launch(l);
        }
    }

    @Override
    public synchronized KvCache allocateKvCache(KvCacheSpec spec) {
        enter();
        OpChecks.allocateKvCache(spec);
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
        OpChecks.AttentionSizes sizes = decode ? OpChecks.attentionDecode(q, k, v, dyn, kvCache, spec, out)
                : OpChecks.attentionPrefill(q, k, v, dyn, kvCache, spec, out);
        CudaKvCache cache = ownCache(op, kvCache, "the KV cache ");
        Inputs in = inputs(op, q, k, v, dyn, out, spec, sizes.rank(), sizes.staticWeights());
        int n = sizes.heads();
        int d = sizes.headDim();
        int t = sizes.rows();
        int rank = sizes.rank();
        int length = sizes.start();
        int cap = sizes.capacity();
        int window = sizes.keysPerQuery();
        if (t == 0) {
            return;
        }
        enter();
        AttentionBuffers buffers = new AttentionBuffers(in.q().address(), in.k().address(), in.v().address(),
                addr(in.dyn()), cache.keys.address, cache.values.address,
                cache.keySide == null ? 0 : cache.keySide.address, addr(in.staticPre()), addr(in.staticPost()),
                in.out().address());
        AttentionShape shape = new AttentionShape(t, length, cap, n, d, rank, in.modeCode(), window,
                typeOf(in.staticPre()));
        boolean staticWeights = in.staticPre() != null;
        if (decode) {
            int first = spec.firstVisibleKey(length, false);
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
        launcher.launch(LaunchPlanner.kvAppend(buffers, shape, spec.mode().usesKeySide()));
        cache.advance(t);
    }

    /** {@code kv} as this backend's open cache; {@code what} starts the error message ("the KV cache "). */
    private CudaKvCache ownCache(String op, KvCache kv, String what) {
        if (!(kv instanceof CudaKvCache cache) || cache.owner() != this) {
            throw new IllegalStateException(op + ": " + what + kv.spec() + " was not allocated by this cuda backend");
        }
        if (cache.isClosed()) {
            throw new IllegalStateException(op + ": " + what + kv.spec() + " is closed");
        }
        return cache;
    }

    /** The tensors of an attention call on this backend, with the kernels' mode code. */
    private record Inputs(CudaTensor q, CudaTensor k, CudaTensor v, CudaTensor dyn, CudaTensor out, CudaTensor staticPre,
                          CudaTensor staticPost, int modeCode) {
    }

    /**
     * Owns the tensors of an attention call and checks what the kernels need beyond the SPI's checks: a compose
     * rank within theirs, both static weights of one dtype, and an output apart from q, k and v.
     */
    private Inputs inputs(String op, Tensor q, Tensor k, Tensor v, Tensor dyn, Tensor out, AttentionSpec spec, int rank,
                          boolean staticWeights) {
        CudaTensor qt = own(q, op, "q");
        CudaTensor kt = own(k, op, "k");
        CudaTensor vt = own(v, op, "v");
        CudaTensor ot = own(out, op, "out");
        AttentionMode mode = spec.mode();
        CudaTensor dt = mode.usesDynamicWeights() ? own(dyn, op, "dyn") : null;
        if (rank > AttentionTiling.MAX_RANK) {
            throw new IllegalArgumentException(op + ": compose rank " + rank + " exceeds the kernels' maximum "
                    + AttentionTiling.MAX_RANK);
        }
        CudaTensor spre = null;
        CudaTensor spost = null;
        if (staticWeights) {
            spre = own(spec.staticPre(), op, "staticPre");
            spost = own(spec.staticPost(), op, "staticPost");
            if (spre.dtype() != spost.dtype()) {
                throw new IllegalArgumentException(op + ": the cuda kernels need staticPre " + spre.label() + " ("
                        + spre.dtype() + ") and staticPost " + spost.label() + " (" + spost.dtype() + ") of one dtype");
            }
        }
        if (overlaps(ot, qt) || overlaps(ot, kt) || overlaps(ot, vt)) {
            throw new IllegalArgumentException(op + ": out " + ot.label() + " overlaps q, k or v");
        }
        int modeCode = switch (mode) {
            case DCMHA -> 0;
            case QUERY_WISE -> 1;
            case PLAIN_MHA -> 2;
        };
        return new Inputs(qt, kt, vt, dt, ot, spre, spost, modeCode);
    }

    /**
     * One launch per phase for all B rows, each row reading and appending to its own cache and split over its keys
     * exactly as its own {@link #attentionDecode} is, so a row's floats do not depend on its batch. The checks are
     * the SPI's ({@link BatchChecks}); a refused batch leaves every cache as it was.
     */
    @Override
    public synchronized void attentionDecodeBatch(Tensor q, Tensor k, Tensor v, Tensor dyn, List<KvCache> caches,
                                                  AttentionSpec spec, Tensor out) {
        String op = "attentionDecodeBatch";
        BatchChecks.DecodeBatchSizes sizes = BatchChecks.attentionDecodeBatchSizes(q, k, v, dyn, caches, spec, out);
        int batch = sizes.rows();
        List<CudaKvCache> owned = new ArrayList<>(batch);
        for (int r = 0; r < batch; r++) {
            owned.add(ownCache(op, caches.get(r), "the KV cache of row " + r + " "));
        }
        Inputs in = inputs(op, q, k, v, dyn, out, spec, sizes.rank(), sizes.staticWeights());
        int n = sizes.heads();
        int d = sizes.headDim();
        int rank = sizes.rank();
        if (batch == 0) {
            return;
        }
        enter();
        List<LaunchPlanner.DecodeRow> rows = new ArrayList<>(batch);
        for (CudaKvCache cache : owned) {
            int length = cache.length();
            int first = spec.firstVisibleKey(length, false);
            rows.add(new LaunchPlanner.DecodeRow(cache.keys.address, cache.values.address,
                    cache.keySide == null ? 0 : cache.keySide.address, length, cache.spec().capacity(),
                    AttentionTiling.decode(length - first + 1, n, in.staticPre() != null,
                            AttentionTiling.DEFAULT_SHARED_BUDGET)));
        }
        LaunchPlanner.BatchLayout layout = LaunchPlanner.BatchLayout.of(rows, n, d);
        long[] table = LaunchPlanner.decodeRowTable(rows);
        DeviceBuffer tableBuffer = scratch("decode-batch-rows", 8L * table.length);
        ctx.upload(tableBuffer.address, 0, ByteBuffer.wrap(HostCodec.encodeLongs(table)));
        LaunchPlanner.DecodeScratch s = new LaunchPlanner.DecodeScratch(
                scratch("decode-logits", 4L * batch * layout.logitStride()).address,
                scratch("decode-partial", 4L * batch * layout.partialStride()).address,
                scratch("decode-lse", 4L * batch * n).address,
                scratch("decode-opart", 4L * batch * layout.outputPartialStride()).address);
        AttentionBuffers buffers = new AttentionBuffers(in.q().address(), in.k().address(), in.v().address(),
                addr(in.dyn()), 0, 0, 0, addr(in.staticPre()), addr(in.staticPost()), in.out().address());
        AttentionShape shape = new AttentionShape(1, 0, 0, n, d, rank, in.modeCode(), spec.keysPerQuery(false),
                typeOf(in.staticPre()));
        for (Launch l : LaunchPlanner.attentionDecodeBatch(buffers, shape, batch, tableBuffer.address, layout, s,
                spec.mode().usesKeySide())) {
            launcher.launch(l);
        }
        for (CudaKvCache cache : owned) {
            cache.advance(1);
        }
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
        CudaTensor qt = own(q, op, "q");
        CudaTensor kt = own(k, op, "k");
        CudaTensor vt = own(v, op, "v");
        CudaTensor ot = own(out, op, "out");
        for (Tensor x : List.of(q, k, v, out)) {
            OpChecks.requireF32(op, x.label(), x);
            if (!x.shape().equals(q.shape()) || x.shape().numel() != x.shape().dim(0) * (long) n * d) {
                throw new IllegalArgumentException(op + ": tensor '" + x.label() + "' has shape " + x.shape()
                        + ", expected [T, " + (n * d) + "] like q " + q.shape());
            }
        }
        int t = qt.shape().dim(0);
        CudaTensor dt = spec.mode().usesDynamicWeights() ? own(dyn, op, "dyn") : null;
        if (spec.staticPre() != null) {
            throw new IllegalArgumentException(op + ": static compose weights are not supported by the baseline");
        }
        if (t == 0) {
            return;
        }
        enter();
        int window = spec.keysPerQuery(t > 1);
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
