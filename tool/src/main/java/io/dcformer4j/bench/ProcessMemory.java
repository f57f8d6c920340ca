package io.dcformer4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The resident set size of this process, from {@code /proc/self/status} (Linux). */
public final class ProcessMemory {
    private ProcessMemory() {
    }

    /** VmRSS in bytes, or -1 where {@code /proc/self/status} is not available. */
    public static long residentBytes() {
        return parseKb(read(Path.of("/proc/self/status")), "VmRSS:");
    }

    /** VmHWM (the peak resident set since start or since {@link #resetPeak()}) in bytes, or -1. */
    public static long peakResidentBytes() {
        return parseKb(read(Path.of("/proc/self/status")), "VmHWM:");
    }

    /**
     * Restarts the peak-resident-set counter (writes 5 to {@code /proc/self/clear_refs}), so that a later
     * {@link #peakResidentBytes()} covers only what follows.
     *
     * @return whether the kernel accepted it
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /** The value of a {@code key:} line (such as {@code VmRSS:}) of a status file's text in bytes, or -1 when absent. */
    static long parseKb(String status, String key) {
        if (status == null) {
            return -1;
        }
        for (String line : status.split("\n")) {
            if (line.startsWith(key)) {
                String[] parts = line.substring(key.length()).trim().split("\\s+");
                long value = Long.parseLong(parts[0]);
                return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
            }
        }
        return -1;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}
