package io.dcformer4j.model.checkpoint;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Reads and writes small zip archives, to build broken PyTorch files in tests. */
final class ZipBytes {
    private ZipBytes() {
    }

    /** Every entry of an archive, in order. */
    static Map<String, byte[]> entries(Path zip) throws IOException {
        Map<String, byte[]> r = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (var e : java.util.Collections.list(z.entries())) {
                r.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return r;
    }

    /** Writes the entries stored (uncompressed) and 64-byte aligned, except those named in {@code deflated}. */
    static Path write(Path file, Map<String, byte[]> entries, String... deflated) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                ZipEntry z = new ZipEntry(e.getKey());
                if (!java.util.Arrays.asList(deflated).contains(e.getKey())) {
                    z.setExtra(padding(bytes.size(), e.getKey()));
                    z.setMethod(ZipEntry.STORED);
                    z.setSize(e.getValue().length);
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    z.setCrc(crc.getValue());
                }
                out.putNextEntry(z);
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return Files.write(file, bytes.toByteArray());
    }

    /**
     * An extra field that puts the entry's data on a 64-byte boundary, as PyTorch's writer does (so F32
     * storages are aligned like in real files).
     */
    private static byte[] padding(long localHeaderOffset, String name) {
        long unpadded = localHeaderOffset + 30 + name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + 4;
        int pad = (int) ((64 - unpadded % 64) % 64);
        byte[] extra = new byte[4 + pad];
        extra[0] = 'F';
        extra[1] = 'B';
        extra[2] = (byte) pad;
        return extra;
    }
}
