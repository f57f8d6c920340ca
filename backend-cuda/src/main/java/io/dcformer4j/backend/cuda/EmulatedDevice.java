package io.dcformer4j.backend.cuda;

import io.dcformer4j.backend.cuda.launch.KernelArg;
import io.dcformer4j.backend.cuda.launch.Launch;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link Device} that runs the backend's own kernel source on the CPU: host memory stands for device
 * memory, and launches go to {@code libcudaemu.so}, built from {@code backend-cuda/src/test/emu} by
 * {@code run-emu.sh --lib} (the .cu files compiled by g++ against a model of the CUDA thread model). It
 * exists to test the CUDA backend end to end, the conformance kit included, where no GPU is present; it is
 * orders of magnitude slower than a GPU. Selected with the system property {@value #PROPERTY}.
 */
final class EmulatedDevice implements Device {
    /** System property naming the emulator library. */
    static final String PROPERTY = "dcformer4j.cuda.emulator";
    private static final Object LAUNCH_LOCK = new Object();
    private static final Map<Path, EmulatedDevice> LOADED = new HashMap<>();

    private final Path library;
    private final MethodHandle emuLaunch;
    private final Map<Long, Arena> arenas = new HashMap<>();
    private final Map<Long, MemorySegment> segments = new HashMap<>();

    private EmulatedDevice(Path library) {
        this.library = library;
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
        this.emuLaunch = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("emu_launch"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }

    /** The emulator loaded from {@code library} (loaded once per JVM). */
    static synchronized EmulatedDevice load(Path library) {
        return LOADED.computeIfAbsent(library.toAbsolutePath(), EmulatedDevice::new);
    }

    @Override
    public String description() {
        return "CPU emulation of the CUDA kernels (" + library + "), for testing only";
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public synchronized long allocate(long bytes) {
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(Math.max(1, bytes), 256);
        arenas.put(s.address(), arena);
        segments.put(s.address(), s);
        return s.address();
    }

    @Override
    public synchronized void free(long address) {
        Arena a = arenas.remove(address);
        if (a == null) {
            throw new IllegalStateException("no emulated allocation at 0x" + Long.toHexString(address));
        }
        segments.remove(address);
        a.close();
    }

    private synchronized MemorySegment segment(long base) {
        MemorySegment s = segments.get(base);
        if (s == null) {
            throw new IllegalStateException("no emulated allocation at 0x" + Long.toHexString(base));
        }
        return s;
    }

    @Override
    public void upload(long base, long offset, ByteBuffer data) {
        MemorySegment.copy(MemorySegment.ofBuffer(data), 0, segment(base), offset, data.remaining());
    }

    @Override
    public void download(long base, long offset, byte[] data) {
        MemorySegment.copy(segment(base), ValueLayout.JAVA_BYTE, offset, data, 0, data.length);
    }

    @Override
    public void copy(long dstBase, long dstOffset, long srcBase, long srcOffset, long bytes) {
        MemorySegment.copy(segment(srcBase), srcOffset, segment(dstBase), dstOffset, bytes);
    }

    @Override
    public void launch(Launch l, boolean sync) {
        List<KernelArg> args = l.args();
        int rc;
        synchronized (LAUNCH_LOCK) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment slots = arena.allocate(ValueLayout.JAVA_LONG, Math.max(1, args.size()));
                for (int i = 0; i < args.size(); i++) {
                    long v = switch (args.get(i)) {
                        case KernelArg.Ptr p -> p.address();
                        case KernelArg.I32 x -> x.value();
                        case KernelArg.F32 x -> Float.floatToRawIntBits(x.value());
                    };
                    slots.setAtIndex(ValueLayout.JAVA_LONG, i, v);
                }
                rc = (int) emuLaunch.invokeExact(arena.allocateFrom(l.kernel().name()), l.grid().x(), l.grid().y(),
                        l.grid().z(), l.block().x(), l.block().y(), l.block().z(), l.sharedBytes(), slots, args.size());
            } catch (Throwable e) {
                throw new IllegalStateException("emulated launch of " + l.kernel().name() + " failed: " + e, e);
            }
        }
        if (rc != 0) {
            throw new IllegalStateException("emulator refused kernel " + l.kernel().name() + " (code " + rc + ")");
        }
    }

    @Override
    public void synchronize() {
    }
}
