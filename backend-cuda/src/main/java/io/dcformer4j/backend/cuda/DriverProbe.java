package io.dcformer4j.backend.cuda;

import io.dcformer4j.api.Availability;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides whether the CUDA backend can run here without loading JCuda's natives: it looks for the driver
 * library file first, and only when one exists asks the driver itself (through the FFM API) for its
 * version and devices. Nothing here prints or throws.
 */
final class DriverProbe {
    /** The driver library the JCuda natives link against. */
    static final String DRIVER_LIBRARY = "libcuda.so.1";
    /** Oldest compute capability with the bf16 mma.sync the kernels use. */
    static final int MIN_COMPUTE_CAPABILITY = 80;
    /**
     * Oldest driver API JCuda 12's driver natives run on: they link entry points that CUDA 12.0 drivers
     * introduced ({@code cuGraphAddKernelNode_v2} and its relatives). The kept PTX (ISA 7.0) alone would load
     * on a CUDA 11.0 driver.
     */
    static final int JCUDA_MIN_DRIVER = 12000;

    private static final int CUDA_SUCCESS = 0;
    private static final int CUDA_ERROR_NO_DEVICE = 100;
    private static final int CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
    private static final int CUDA_ERROR_STUB_LIBRARY = 34;
    private static final int ATTR_CC_MAJOR = 75;
    private static final int ATTR_CC_MINOR = 76;
    private static final List<String> DEFAULT_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
            "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
            "/usr/lib/wsl/lib", "/run/opengl-driver/lib");

    private static volatile Availability cached;

    private DriverProbe() {
    }

    /** The availability of this JVM's machine, computed once. */
    static Availability availability() {
        Availability a = cached;
        if (a == null) {
            a = probe();
            cached = a;
        }
        return a;
    }

    private static Availability probe() {
        try {
            String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
            String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
            if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
                return Availability.unavailable("the CUDA backend ships JCuda natives for linux-x86_64 only, this is "
                        + os + "/" + arch);
            }
            List<Path> dirs = searchDirectories(System.getenv("LD_LIBRARY_PATH"), Path.of("/etc"));
            Optional<Path> lib = findDriver(dirs);
            if (lib.isEmpty()) {
                return Availability.unavailable("no CUDA driver library (" + DRIVER_LIBRARY + ") found in "
                        + dirs.size() + " library directories (LD_LIBRARY_PATH, ld.so.conf, system defaults)");
            }
            return askDriver(lib.get(), requiredDriverVersion());
        } catch (Throwable e) {
            return Availability.unavailable("CUDA driver probe failed: " + e);
        }
    }

    /**
     * Directories searched for the driver: LD_LIBRARY_PATH, those listed by ld.so.conf (and its
     * {@code include}d .conf files), then the usual system and NVIDIA container locations. Stub folders
     * (the toolkit's link-time {@code stubs}) are never searched.
     */
    static List<Path> searchDirectories(String ldLibraryPath, Path etc) {
        Set<String> dirs = new LinkedHashSet<>();
        if (ldLibraryPath != null) {
            for (String d : ldLibraryPath.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(d.trim());
                }
            }
        }
        dirs.addAll(ldSoConf(etc.resolve("ld.so.conf")));
        Path confD = etc.resolve("ld.so.conf.d");
        if (Files.isDirectory(confD)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(confD, "*.conf")) {
                List<Path> files = new ArrayList<>();
                ds.forEach(files::add);
                files.sort(null);
                for (Path f : files) {
                    dirs.addAll(ldSoConf(f));
                }
            } catch (IOException | RuntimeException e) {
                // An unreadable ld.so.conf.d only narrows the search; the defaults below remain.
            }
        }
        dirs.addAll(DEFAULT_DIRS);
        return dirs.stream().filter(d -> !d.contains("/stubs")).map(Path::of).toList();
    }

    private static List<String> ldSoConf(Path file) {
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                if (l.startsWith("/")) {
                    out.add(l);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Missing or unreadable: nothing to add.
        }
        return out;
    }

    /** The first directory that holds the driver library. */
    static Optional<Path> findDriver(List<Path> dirs) {
        for (Path d : dirs) {
            Path p = d.resolve(DRIVER_LIBRARY);
            if (Files.isRegularFile(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The driver API version (1000 × major + 10 × minor) needed to JIT-compile PTX of the given ISA
     * version, for example "9.0" → 13000 (CUDA 13.0), "8.5" → 12050.
     */
    static int driverVersionForPtxIsa(String isa) {
        String[] parts = isa.split("\\.");
        int major = Integer.parseInt(parts[0]);
        int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        if (major >= 9) {
            return 13000 + 1000 * (major - 9) + 10 * minor;
        }
        if (major == 8) {
            int[] cuda12Minor = {0, 1, 2, 3, 4, 5, 7, 8, 9};
            return 12000 + 10 * cuda12Minor[Math.min(minor, cuda12Minor.length - 1)];
        }
        if (major == 7) {
            return 11000 + 10 * minor; // ISA 7.0 came with CUDA 11.0, 7.8 with 11.8
        }
        throw new IllegalArgumentException("PTX ISA " + isa + " is older than 7.0, which the kernels' .target sm_80 needs");
    }

    /** The {@code .version} directive of a PTX text. */
    static String ptxIsaVersion(String ptx) {
        Matcher m = Pattern.compile("(?m)^\\.version\\s+(\\d+\\.\\d+)").matcher(ptx);
        if (!m.find()) {
            throw new IllegalArgumentException("PTX text has no .version directive");
        }
        return m.group(1);
    }

    /** The PTX ISA version the kept PTX declares (every module declares the same; a test checks it). */
    static String keptPtxIsa() throws IOException {
        try (InputStream in = DriverProbe.class.getResourceAsStream(CudaContext.PTX_RESOURCE_DIR + "linear.ptx")) {
            if (in == null) {
                throw new IOException("PTX resource " + CudaContext.PTX_RESOURCE_DIR + "linear.ptx is missing from the jar");
            }
            return ptxIsaVersion(new String(in.readNBytes(4096), StandardCharsets.US_ASCII));
        }
    }

    /** The driver version this backend needs: what its PTX ISA needs, and at least what JCuda's natives need. */
    static int requiredDriverVersion() throws IOException {
        return Math.max(driverVersionForPtxIsa(keptPtxIsa()), JCUDA_MIN_DRIVER);
    }

    /** Why {@link #requiredDriverVersion()} is what it is, for messages: both requirements with their versions. */
    static String requirementReason() {
        String isa;
        try {
            isa = keptPtxIsa();
        } catch (IOException | RuntimeException e) {
            return "JCuda 12's driver natives need " + formatVersion(JCUDA_MIN_DRIVER);
        }
        return "JCuda 12's driver natives need " + formatVersion(JCUDA_MIN_DRIVER) + ", the kernels' PTX ISA " + isa
                + " needs " + formatVersion(driverVersionForPtxIsa(isa));
    }

    /** Formats a driver API version, 12060 → "12.6". */
    static String formatVersion(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    private static Availability askDriver(Path lib, int required) throws Throwable {
        Linker linker = Linker.nativeLinker();
        SymbolLookup cuda = SymbolLookup.libraryLookup(lib, Arena.global());
        MethodHandle cuInit = linker.downcallHandle(cuda.findOrThrow("cuInit"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int rc = (int) cuInit.invokeExact(0);
        if (rc == CUDA_ERROR_NO_DEVICE) {
            return Availability.unavailable("no CUDA device (cuInit returned CUDA_ERROR_NO_DEVICE; driver at " + lib + ")");
        }
        if (rc == CUDA_ERROR_STUB_LIBRARY) {
            return Availability.unavailable("the CUDA driver library at " + lib + " is the toolkit's stub, not a driver");
        }
        if (rc == CUDA_ERROR_INSUFFICIENT_DRIVER) {
            return Availability.unavailable("driver too old: cuInit returned CUDA_ERROR_INSUFFICIENT_DRIVER (needs ≥ "
                    + formatVersion(required) + ")");
        }
        if (rc != CUDA_SUCCESS) {
            return Availability.unavailable("cuInit failed with CUresult " + rc + " (driver at " + lib + ")");
        }
        MethodHandle version = linker.downcallHandle(cuda.findOrThrow("cuDriverGetVersion"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MethodHandle count = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetCount"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        MethodHandle deviceGet = linker.downcallHandle(cuda.findOrThrow("cuDeviceGet"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle attribute = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetAttribute"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT));
        MethodHandle name = linker.downcallHandle(cuda.findOrThrow("cuDeviceGetName"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            if ((int) version.invokeExact(out) != CUDA_SUCCESS) {
                return Availability.unavailable("cuDriverGetVersion failed (driver at " + lib + ")");
            }
            int driver = out.get(ValueLayout.JAVA_INT, 0);
            if (driver < required) {
                return Availability.unavailable("driver too old: CUDA driver API " + formatVersion(driver) + ", needs ≥ "
                        + formatVersion(required) + " (" + requirementReason() + ")");
            }
            if ((int) count.invokeExact(out) != CUDA_SUCCESS || out.get(ValueLayout.JAVA_INT, 0) == 0) {
                return Availability.unavailable("no CUDA device (the driver at " + lib + " reports none)");
            }
            int devices = out.get(ValueLayout.JAVA_INT, 0);
            if ((int) deviceGet.invokeExact(out, 0) != CUDA_SUCCESS) {
                return Availability.unavailable("cuDeviceGet(0) failed");
            }
            int dev = out.get(ValueLayout.JAVA_INT, 0);
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            int major = (int) attribute.invokeExact(v, ATTR_CC_MAJOR, dev) == CUDA_SUCCESS ? v.get(ValueLayout.JAVA_INT, 0) : 0;
            int minor = (int) attribute.invokeExact(v, ATTR_CC_MINOR, dev) == CUDA_SUCCESS ? v.get(ValueLayout.JAVA_INT, 0) : 0;
            MemorySegment buf = arena.allocate(256);
            String devName = (int) name.invokeExact(buf, 256, dev) == CUDA_SUCCESS ? buf.getString(0) : "device 0";
            if (major * 10 + minor < MIN_COMPUTE_CAPABILITY) {
                return Availability.unavailable(devName + " has compute capability " + major + "." + minor
                        + ", the kernels need ≥ 8.0 (bf16 tensor-core mma)");
            }
            return Availability.available(devices + " CUDA device(s), device 0: " + devName + " (sm_" + major + minor
                    + "), driver API " + formatVersion(driver) + ", " + lib);
        }
    }
}
