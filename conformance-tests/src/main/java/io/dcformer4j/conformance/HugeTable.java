package io.dcformer4j.conformance;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Lazily backed memory for weight tables larger than 2 GiB (an LM head or embedding of 152064 × 4096 F32):
 * an anonymous private mapping whose untouched pages all read as the shared zero page (the huge one where
 * transparent huge pages allow), so only the rows a test writes take memory. Where {@code mmap} cannot be called (not Linux, or native access refused)
 * a sparse temporary file is mapped instead; where neither works, {@link #allocate} says why.
 */
final class HugeTable {
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_HUGEPAGE = 14;

    private HugeTable() {
    }

    /** A result: the zero-filled segment, or the reason there is none. */
    record Allocation(MemorySegment segment, String reason) {
    }

    /** {@code bytes} of zero-reading memory, released when {@code arena} closes. */
    static Allocation allocate(long bytes, Arena arena) {
        Optional<MemorySegment> anonymous = anonymousMapping(bytes, arena);
        if (anonymous.isPresent()) {
            return new Allocation(anonymous.get(), null);
        }
        try {
            Path file = Files.createTempFile("dcformer4j-tck-table", ".bin");
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment seg = channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                return new Allocation(seg, null);
            } finally {
                Files.deleteIfExists(file); // the mapping stays valid; the blocks go when it is unmapped
            }
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            return new Allocation(null, "neither an anonymous mapping nor a sparse temporary file of " + bytes + " bytes could be mapped: " + e);
        }
    }

    private static Optional<MemorySegment> anonymousMapping(long bytes, Arena arena) {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
            MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
            MethodHandle madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

            if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
                return Optional.empty(); // the flag values above are Linux's
            }
            MemorySegment address = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, bytes, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (address.address() == -1L || address.address() == 0L) {
                return Optional.empty();
            }
            // With transparent huge pages, a read of an untouched 2 MiB range maps the huge zero page: one
            // page fault per 2 MiB instead of 512, which is most of the cost of streaming a 2.5 GB table.
            int advised = (int) madvise.invokeExact(address, bytes, MADV_HUGEPAGE);
            return Optional.of(address.reinterpret(bytes, arena, seg -> {
                try {
                    int ignored = (int) munmap.invokeExact(seg, bytes);
                } catch (Throwable t) {
                    throw new IllegalStateException("munmap of a test table failed", t);
                }
            }));
        } catch (Throwable unavailable) {
            return Optional.empty();
        }
    }
}
