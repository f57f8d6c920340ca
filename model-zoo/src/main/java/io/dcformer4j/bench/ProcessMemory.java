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
        return parseVmRss(read(Path.of("/proc/self/status")));
    }

    /** The {@code VmRSS:} line of a status file's text in bytes, or -1 when absent. */
    static long parseVmRss(String status) {
        if (status == null) {
            return -1;
        }
        for (String line : status.split("\n")) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring(6).trim().split("\\s+");
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
