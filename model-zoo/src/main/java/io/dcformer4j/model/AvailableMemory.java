package io.dcformer4j.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/**
 * Physical memory a new allocation can have, for the default {@link CacheBudget}. The JDK's
 * {@code getFreeMemorySize} reports the memory no one uses at all (MemFree on Linux); the page cache is not in it,
 * although the kernel hands it out on demand. After reading a checkpoint of many gigabytes the page cache holds
 * most of the machine, and a budget from MemFree would leave the caches a few megabytes. Linux's MemAvailable
 * counts what can be reclaimed too; it is used when the JVM sees the machine's whole memory (no container limit,
 * whose own accounting the JDK already applies and /proc/meminfo does not show).
 */
final class AvailableMemory {
    private static final Path MEMINFO = Path.of("/proc/meminfo");

    private AvailableMemory() {
    }

    /** The free memory to plan with, given what the JVM reports as total and free physical memory. */
    static long of(long jvmTotal, long jvmFree) {
        List<String> lines;
        try {
            lines = Files.exists(MEMINFO) ? Files.readAllLines(MEMINFO) : List.of();
        } catch (IOException | SecurityException e) {
            lines = List.of();
        }
        return fromMeminfo(lines, jvmTotal).orElse(jvmFree);
    }

    /**
     * MemAvailable in bytes when {@code lines} (of /proc/meminfo) give it and their MemTotal is the total the JVM
     * sees (within 1 %); empty otherwise (no such file, an old kernel without MemAvailable, or a container limit).
     */
    static OptionalLong fromMeminfo(List<String> lines, long jvmTotal) {
        long total = -1;
        long available = -1;
        for (String line : lines) {
            if (line.startsWith("MemTotal:")) {
                total = kilobytes(line);
            } else if (line.startsWith("MemAvailable:")) {
                available = kilobytes(line);
            }
        }
        if (total <= 0 || available < 0 || Math.abs(total - jvmTotal) > jvmTotal / 100) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(available);
    }

    /** The bytes of a line such as {@code "MemAvailable:   123456 kB"}, or -1. */
    private static long kilobytes(String line) {
        String[] parts = line.substring(line.indexOf(':') + 1).trim().split("\\s+");
        try {
            long v = Long.parseLong(parts[0]);
            return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? v * 1024 : v;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
