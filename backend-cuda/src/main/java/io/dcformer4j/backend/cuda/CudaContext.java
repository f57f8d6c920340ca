package io.dcformer4j.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.backend.cuda.launch.KernelArg;
import io.dcformer4j.backend.cuda.launch.KernelSpec;
import io.dcformer4j.backend.cuda.launch.Kernels;
import io.dcformer4j.backend.cuda.launch.Launch;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jcuda.CudaException;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * The JCuda side: one driver context per device for the whole JVM (created on first use, kept until the
 * process ends, like the CUDA primary context), the PTX modules and their functions, device memory and
 * launches. Backends opened on a device share its context and modules, so opening one is cheap; each backend
 * frees only what it allocated. Every call runs on the caller's thread after making the context current.
 * Kernel launches are asynchronous on the default stream; host copies synchronise.
 */
final class CudaContext implements Device {
    /** Class-path folder of the kept PTX. */
    static final String PTX_RESOURCE_DIR = "/io/dcformer4j/backend/cuda/ptx/";

    private static final Map<Integer, CudaContext> DEVICES = new HashMap<>();

    private final CUcontext context = new CUcontext();
    private final Map<KernelSpec, CUfunction> functions = new HashMap<>();
    private final Map<Long, DevicePointer> allocations = new HashMap<>();
    private final String description;

    private CudaContext(int ordinal) {
        JCudaDriver.setExceptionsEnabled(true);
        cuInit(0);
        CUdevice device = new CUdevice();
        cuDeviceGet(device, ordinal);
        cuCtxCreate(context, 0, device);
        byte[] name = new byte[256];
        cuDeviceGetName(name, name.length, device);
        long[] mem = new long[1];
        cuDeviceTotalMem(mem, device);
        int[] major = new int[1];
        int[] minor = new int[1];
        int[] sms = new int[1];
        cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        cuDeviceGetAttribute(sms, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        String devName = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
        this.description = "CUDA device " + ordinal + ": " + devName + " (sm_" + major[0] + minor[0] + ", "
                + sms[0] + " SMs, " + (mem[0] >> 20) + " MiB)";
        Map<String, CUmodule> modules = new HashMap<>();
        for (String m : Kernels.modules()) {
            CUmodule module = new CUmodule();
            byte[] ptx = ptx(m);
            try {
                cuModuleLoadData(module, ptx);
            } catch (CudaException e) {
                String why = loadFailure(m, ptx, e, major[0] * 10 + minor[0]);
                try {
                    cuCtxDestroy(context);
                } catch (CudaException ignored) {
                    // The load failure is the error to report.
                }
                throw new BackendUnavailableException(why, e);
            }
            modules.put(m, module);
        }
        for (KernelSpec k : Kernels.all()) {
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, modules.get(k.module()), k.name());
            functions.put(k, f);
        }
    }

    /** The one-line reason a module did not load, with the driver version needed and the one present. */
    private static String loadFailure(String module, byte[] ptx, CudaException e, int computeCapability) {
        Matcher m = Pattern.compile("CUDA_ERROR_\\w+").matcher(String.valueOf(e.getMessage()));
        String error = m.find() ? m.group() : String.valueOf(e.getMessage());
        String isa = DriverProbe.ptxIsaVersion(new String(ptx, 0, Math.min(ptx.length, 4096), StandardCharsets.US_ASCII));
        int required;
        try {
            required = DriverProbe.requiredDriverVersion();
        } catch (IOException | RuntimeException ex) {
            required = DriverProbe.JCUDA_MIN_DRIVER;
        }
        int present = 0;
        try {
            int[] v = new int[1];
            cuDriverGetVersion(v);
            present = v[0];
        } catch (CudaException ex) {
            // Unknown: the message says so.
        }
        return PtxLoadFailure.message(module, error, isa, required, present, computeCapability);
    }

    /** The context of a device: created, with its modules loaded and kernels resolved, on first use. */
    static synchronized CudaContext forDevice(int ordinal) {
        CudaContext c = DEVICES.get(ordinal);
        if (c == null) {
            c = new CudaContext(ordinal);
            DEVICES.put(ordinal, c);
        }
        return c;
    }

    private static byte[] ptx(String module) {
        String path = PTX_RESOURCE_DIR + module + ".ptx";
        try (InputStream in = CudaContext.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource " + path + " is missing from the backend-cuda jar");
            }
            byte[] text = in.readAllBytes();
            byte[] z = new byte[text.length + 1];
            System.arraycopy(text, 0, z, 0, text.length);
            return z;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public void makeCurrent() {
        cuCtxSetCurrent(context);
    }

    @Override
    public synchronized long allocate(long bytes) {
        DevicePointer p = new DevicePointer();
        long n = Math.max(1, bytes);
        cuMemAlloc(p, n);
        cuMemsetD8(p, (byte) 0, n);
        allocations.put(p.address(), p);
        return p.address();
    }

    @Override
    public synchronized void free(long address) {
        cuMemFree(pointer(address));
        allocations.remove(address);
    }

    private synchronized DevicePointer pointer(long base) {
        DevicePointer p = allocations.get(base);
        if (p == null) {
            throw new IllegalStateException("no device allocation at 0x" + Long.toHexString(base));
        }
        return p;
    }

    @Override
    public void upload(long base, long offset, ByteBuffer data) {
        long n = data.remaining();
        if (n > 0) {
            cuMemcpyHtoD(pointer(base).withByteOffset(offset), Pointer.to(data), n);
        }
    }

    @Override
    public void download(long base, long offset, byte[] data) {
        if (data.length > 0) {
            cuMemcpyDtoH(Pointer.to(data), pointer(base).withByteOffset(offset), data.length);
        }
    }

    @Override
    public void copy(long dstBase, long dstOffset, long srcBase, long srcOffset, long bytes) {
        if (bytes > 0) {
            cuMemcpyDtoD(pointer(dstBase).withByteOffset(dstOffset), pointer(srcBase).withByteOffset(srcOffset), bytes);
        }
    }

    @Override
    public void launch(Launch l, boolean sync) {
        CUfunction f = functions.get(l.kernel());
        List<KernelArg> args = l.args();
        NativePointerObject[] params = new NativePointerObject[args.size()];
        for (int i = 0; i < params.length; i++) {
            params[i] = switch (args.get(i)) {
                case KernelArg.Ptr p -> Pointer.to(new long[] {p.address()});
                case KernelArg.I32 v -> Pointer.to(new int[] {v.value()});
                case KernelArg.F32 v -> Pointer.to(new float[] {v.value()});
            };
        }
        try {
            cuLaunchKernel(f, l.grid().x(), l.grid().y(), l.grid().z(), l.block().x(), l.block().y(), l.block().z(),
                    l.sharedBytes(), null, Pointer.to(params), null);
            if (sync) {
                cuCtxSynchronize();
            }
        } catch (CudaException e) {
            throw new IllegalStateException("kernel " + l.kernel().name() + " grid " + l.grid() + " block " + l.block()
                    + " shared " + l.sharedBytes() + " B failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void synchronize() {
        cuCtxSynchronize();
    }

}
