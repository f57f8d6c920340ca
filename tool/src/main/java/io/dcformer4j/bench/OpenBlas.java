package io.dcformer4j.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A system OpenBLAS reached through the FFM API ({@code cblas_sgemm}), used only as a yardstick for our
 * own GEMM. Nothing of it is needed to run models: when no library is found {@link #find} is empty.
 */
public final class OpenBlas implements AutoCloseable {
    private static final int CBLAS_ROW_MAJOR = 101;
    private static final int CBLAS_NO_TRANS = 111;
    private static final int CBLAS_TRANS = 112;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;

    private final Path library;
    private final String coreType;
    private final Arena arena;
    private final MethodHandle sgemm;
    private final MethodHandle setThreads;

    @SuppressWarnings("restricted") // loading a native library is the point of this class
    private OpenBlas(Path library) {
        this.library = library;
        this.arena = Arena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
        Linker linker = Linker.nativeLinker();
        this.coreType = lookup.find("openblas_get_corename").map(s -> {
            try {
                MemorySegment name = (MemorySegment) linker.downcallHandle(s, FunctionDescriptor.of(ValueLayout.ADDRESS))
                        .invokeExact();
                return name.reinterpret(64).getString(0);
            } catch (Throwable t) {
                return "unknown";
            }
        }).orElse("unknown");
        this.sgemm = linker.downcallHandle(lookup.findOrThrow("cblas_sgemm"), FunctionDescriptor.ofVoid(
                INT, INT, INT, INT, INT, INT, FLOAT, ValueLayout.ADDRESS, INT, ValueLayout.ADDRESS, INT, FLOAT,
                ValueLayout.ADDRESS, INT));
        this.setThreads = lookup.find("openblas_set_num_threads")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.ofVoid(INT)))
                .orElse(null);
    }

    /** Where a system OpenBLAS is usually installed on Debian/Ubuntu x86-64, most specific first. */
    public static List<Path> defaultCandidates() {
        List<Path> c = new ArrayList<>();
        String override = System.getProperty("dcformer4j.openblas");
        if (override != null && !override.isBlank()) {
            c.add(Path.of(override));
        }
        Path dir = Path.of("/usr/lib/x86_64-linux-gnu");
        c.add(dir.resolve("libopenblas.so.0"));
        c.add(dir.resolve("libopenblas.so"));
        c.addAll(fromLdconfig());
        return c;
    }

    /**
     * Opens the first candidate that exists and exports {@code cblas_sgemm}. Before the first load, when
     * {@code OPENBLAS_CORETYPE} is unset, it is set from the CPU's vector extensions: OpenBLAS releases older
     * than the CPU (Debian 12 ships 0.3.21) fall back to their generic SSE3 "Prescott" kernels on CPUs they
     * do not recognise, which would make a meaningless yardstick.
     */
    public static Optional<OpenBlas> find(List<Path> candidates) {
        chooseCoreType();
        for (Path p : candidates) {
            if (!isElf(p)) {
                continue;
            }
            try {
                return Optional.of(new OpenBlas(p));
            } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
                // Not a loadable library, or one without CBLAS: try the next candidate.
            }
        }
        return Optional.empty();
    }

    private static boolean isElf(Path p) {
        if (!Files.isRegularFile(p)) {
            return false;
        }
        try (var in = Files.newInputStream(p)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    /** The kernel family OpenBLAS chose ({@code openblas_get_corename}). */
    public String coreType() {
        return coreType;
    }

    /** The library file that was loaded. */
    public Path library() {
        return library;
    }

    /** Sets OpenBLAS's worker count (its own pool), when the library exports the setter. */
    public void setThreads(int threads) {
        if (setThreads == null) {
            return;
        }
        try {
            setThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads(" + threads + ") failed in " + library, t);
        }
    }

    /**
     * {@code c[M, N] = a[M, K] · w[N, K]ᵀ} in row-major F32 (the nn.Linear layout our {@code linear} uses).
     */
    public void sgemm(GemmShape s, MemorySegment a, MemorySegment w, MemorySegment c) {
        try {
            sgemm.invokeExact(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, s.m(), s.n(), s.k(), 1f, a, s.k(), w,
                    s.k(), 0f, c, s.n());
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm " + s + " failed in " + library, t);
        }
    }

    /** Median GFLOP/s of {@link #sgemm} at a shape, on random data. */
    public double gflops(GemmShape s, int reps, double minSeconds) {
        try (Arena local = Arena.ofConfined()) {
            MemorySegment a = randomSegment(local, (long) s.m() * s.k(), 1); // [M, K]
            MemorySegment w = randomSegment(local, (long) s.n() * s.k(), 2); // [N, K]
            MemorySegment c = local.allocate((long) s.m() * s.n() * 4, 64); // [M, N]
            double sec = Timer.medianSecondsPerCall(() -> sgemm(s, a, w, c), reps, minSeconds);
            return s.flops() / sec / 1e9;
        }
    }

    @Override
    public void close() {
        arena.close();
    }

    private static MemorySegment randomSegment(Arena arena, long n, long seed) {
        MemorySegment m = arena.allocate(n * 4, 64);
        var rnd = new java.util.SplittableRandom(seed);
        for (long i = 0; i < n; i++) {
            m.setAtIndex(FLOAT, i, (float) (rnd.nextDouble() - 0.5));
        }
        return m;
    }

    @SuppressWarnings("restricted") // setenv from libc, before OpenBLAS reads its environment
    private static void chooseCoreType() {
        if (System.getenv("OPENBLAS_CORETYPE") != null) {
            return;
        }
        String flags;
        try {
            flags = Files.readString(Path.of("/proc/cpuinfo"));
        } catch (IOException e) {
            return;
        }
        String core = flags.contains(" avx512f") ? "SkylakeX" : flags.contains(" avx2") ? "Haswell" : null;
        if (core == null) {
            return;
        }
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) {
            return;
        }
        MethodHandle h = linker.downcallHandle(setenv.get(),
                FunctionDescriptor.of(INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, INT));
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(a.allocateFrom("OPENBLAS_CORETYPE"), a.allocateFrom(core), 0);
            if (rc != 0) {
                throw new IllegalStateException("setenv(OPENBLAS_CORETYPE) failed with " + rc);
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(OPENBLAS_CORETYPE) failed", t);
        }
    }

    private static List<Path> fromLdconfig() {
        List<Path> found = new ArrayList<>();
        for (String exe : List.of("/sbin/ldconfig", "/usr/sbin/ldconfig")) {
            if (!Files.isExecutable(Path.of(exe))) {
                continue;
            }
            try {
                Process p = new ProcessBuilder(exe, "-p").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(5, TimeUnit.SECONDS);
                for (String line : out.split("\n")) {
                    int arrow = line.indexOf("=>");
                    if (line.contains("libopenblas") && arrow > 0) {
                        found.add(Path.of(line.substring(arrow + 2).trim()));
                    }
                }
            } catch (IOException e) {
                // No usable ldconfig: the fixed paths were already tried.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            break;
        }
        return found;
    }
}
