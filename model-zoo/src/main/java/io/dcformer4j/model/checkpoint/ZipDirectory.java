package io.dcformer4j.model.checkpoint;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The central directory of a zip archive read straight from a mapped file, giving each entry's data offset so
 * stored (uncompressed) entries can be used in place. {@link java.util.zip.ZipFile} does not expose data
 * offsets, hence this small reader. Handles ZIP64 (PyTorch writes it for files over 4 GiB); every offset and
 * size is checked against the file before use.
 */
final class ZipDirectory {

    /** One archive member. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset) {
    }

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final long U32_MAX = 0xFFFFFFFFL;
    /** Far more members than any checkpoint archive has (one per storage); bounds what a hostile directory costs. */
    static final long MAX_ENTRIES = 200_000;

    private final Path file;
    private final MemorySegment zip;

    private ZipDirectory(Path file, MemorySegment zip) {
        this.file = file;
        this.zip = zip;
    }

    /**
     * Reads every entry of the archive mapped in {@code zip}.
     *
     * @throws CheckpointException naming the file and the offending field when the archive is malformed
     */
    static Map<String, Entry> read(Path file, MemorySegment zip) {
        return new ZipDirectory(file, zip).entries();
    }

    private Map<String, Entry> entries() {
        long size = zip.byteSize();
        long eocd = findEocd();
        long count = u16(eocd + 10);
        long cdSize = u32(eocd + 12);
        long cdOffset = u32(eocd + 16);
        if (count == 0xFFFF || cdSize == U32_MAX || cdOffset == U32_MAX) {
            long locator = eocd - 20;
            if (locator < 0 || zip.get(LE_INT, locator) != ZIP64_LOCATOR) {
                throw error("ZIP64 sizes without a ZIP64 end-of-central-directory locator");
            }
            long z64 = u64(locator + 8);
            check(z64, 56, "ZIP64 end-of-central-directory record");
            if (zip.get(LE_INT, z64) != ZIP64_EOCD) {
                throw error("bad ZIP64 end-of-central-directory signature at offset " + z64);
            }
            count = u64(z64 + 32);
            cdSize = u64(z64 + 40);
            cdOffset = u64(z64 + 48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw error("central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file (" + size + " bytes)");
        }
        if (count < 0 || count > cdSize / 46) {
            throw error("central directory claims " + count + " entries in " + cdSize + " bytes");
        }
        if (count > MAX_ENTRIES) {
            throw error("archive has " + count + " entries, more than a checkpoint holds (limit " + MAX_ENTRIES + ")");
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        long p = cdOffset;
        long end = cdOffset + cdSize;
        for (long i = 0; i < count; i++) {
            if (p + 46 > end || zip.get(LE_INT, p) != CENTRAL) {
                throw error("bad central directory entry " + i + " at offset " + p);
            }
            int flags = u16(p + 8);
            int method = u16(p + 10);
            long csize = u32(p + 20);
            long usize = u32(p + 24);
            int nameLen = u16(p + 28);
            int extraLen = u16(p + 30);
            int commentLen = u16(p + 32);
            long local = u32(p + 42);
            long next = p + 46 + nameLen + extraLen + commentLen;
            if (next > end) {
                throw error("central directory entry " + i + " runs past the directory");
            }
            String name = new String(zip.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            long[] z64 = {usize, csize, local};
            readZip64Extra(name, p + 46 + nameLen, extraLen, z64);
            usize = z64[0];
            csize = z64[1];
            local = z64[2];
            if ((flags & 1) != 0) {
                throw error("entry '" + name + "' is encrypted");
            }
            long data = dataOffset(name, local);
            if (csize < 0 || data > size || csize > size - data) {
                throw error("entry '" + name + "' data [" + data + ", +" + csize + ") lies outside the file (" + size
                        + " bytes, truncated?)");
            }
            if (entries.put(name, new Entry(name, method, csize, usize, data)) != null) {
                throw error("entry '" + name + "' appears twice");
            }
            p = next;
        }
        return entries;
    }

    private long findEocd() {
        long size = zip.byteSize();
        long lowest = Math.max(0, size - 22 - 0xFFFF);
        for (long p = size - 22; p >= lowest; p--) {
            if (zip.get(LE_INT, p) == EOCD) {
                return p;
            }
        }
        throw error("not a zip archive (no end-of-central-directory record; truncated?)");
    }

    private void readZip64Extra(String name, long extra, int extraLen, long[] values) {
        long p = extra;
        long end = extra + extraLen;
        while (p + 4 <= end) {
            int id = u16(p);
            int len = u16(p + 2);
            if (p + 4 + len > end) {
                throw error("entry '" + name + "' has a malformed extra field");
            }
            if (id == 1) {
                long q = p + 4;
                for (int k = 0; k < 3; k++) {
                    if (values[k] == U32_MAX) {
                        if (q + 8 > p + 4 + len) {
                            throw error("entry '" + name + "' has a short ZIP64 extra field");
                        }
                        values[k] = u64(q);
                        q += 8;
                    }
                }
            }
            p += 4 + len;
        }
    }

    private long dataOffset(String name, long local) {
        check(local, 30, "local header of entry '" + name + "'");
        if (zip.get(LE_INT, local) != LOCAL) {
            throw error("entry '" + name + "' has no local header at offset " + local);
        }
        return local + 30 + u16(local + 26) + u16(local + 28);
    }

    private void check(long offset, long len, String what) {
        if (offset < 0 || offset > zip.byteSize() - len) {
            throw error(what + " at offset " + offset + " lies outside the file (" + zip.byteSize() + " bytes)");
        }
    }

    private int u16(long p) {
        return Short.toUnsignedInt(zip.get(LE_SHORT, p));
    }

    private long u32(long p) {
        return Integer.toUnsignedLong(zip.get(LE_INT, p));
    }

    private long u64(long p) {
        long v = zip.get(LE_LONG, p);
        if (v < 0) {
            throw error("ZIP64 value " + Long.toUnsignedString(v) + " at offset " + p + " is out of range");
        }
        return v;
    }

    private CheckpointException error(String message) {
        return new CheckpointException(file + ": " + message);
    }
}
