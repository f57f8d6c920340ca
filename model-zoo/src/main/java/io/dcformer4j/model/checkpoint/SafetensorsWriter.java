package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@code .safetensors} file from tensors that already sit in memory segments (typically mapped from
 * another checkpoint), streaming each one to disk in bounded chunks so no tensor is copied to the heap. Tensors
 * are written back to back; the header is padded with spaces to a multiple of 8 bytes, and tensors are laid
 * out by decreasing element size (then name, as the reference safetensors library does) so each one starts
 * aligned to its element size. The file appears atomically (written beside the target, then moved).
 */
public final class SafetensorsWriter {

    /** One tensor to write: its bytes must be {@code dtype.bytesFor(shape.numel())} long, little-endian. */
    public record Entry(String name, DType dtype, Shape shape, MemorySegment data) {
        /** Checks the byte count against dtype and shape. */
        public Entry {
            long expected = dtype.bytesFor(shape.numel());
            if (data.byteSize() != expected) {
                throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes for " + dtype
                        + " " + shape + ", expected " + expected);
            }
        }
    }

    private static final long CHUNK = 64L << 20;

    /** The alignment a tensor of dtype wants: its element size, or 2 for Q8_0 (its blocks start with an F16). */
    private static int alignment(DType dtype) {
        return dtype.isQuantized() ? 2 : dtype.byteSize();
    }
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {
    }

    /**
     * Writes every tensor of {@code source} to {@code file}.
     *
     * @param metadata strings for the {@code __metadata__} header entry (may be empty)
     */
    public static void write(Path file, WeightSource source, Map<String, String> metadata) {
        write(file, source.tensors().values().stream()
                .map(t -> new Entry(t.name(), t.dtype(), t.shape(), source.data(t.name()))).toList(), metadata);
    }

    /**
     * Writes the entries to {@code file}, replacing it if it exists.
     *
     * @throws IllegalArgumentException when two entries share a name
     * @throws UncheckedIOException     when writing fails (the target is then left untouched)
     */
    public static void write(Path file, Collection<Entry> entries, Map<String, String> metadata) {
        Map<String, Entry> byName = new TreeMap<>();
        for (Entry e : entries) {
            if (byName.put(e.name(), e) != null) {
                throw new IllegalArgumentException("tensor '" + e.name() + "' given twice for " + file);
            }
        }
        List<Entry> sorted = new ArrayList<>(byName.values());
        sorted.sort(Comparator.comparingInt((Entry e) -> -alignment(e.dtype())).thenComparing(Entry::name));
        byte[] header = header(sorted, metadata);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(out, len);
                writeFully(out, ByteBuffer.wrap(header));
                for (Entry e : sorted) {
                    for (long off = 0; off < e.data().byteSize(); off += CHUNK) {
                        writeFully(out, e.data().asSlice(off, Math.min(CHUNK, e.data().byteSize() - off)).asByteBuffer());
                    }
                }
                out.force(false);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file is only left behind when the disk itself is failing
                }
            }
        }
    }

    private static byte[] header(List<Entry> sorted, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Entry e : sorted) {
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", e.dtype().name());
            ArrayNode shape = t.putArray("shape");
            for (int d : e.shape().dims()) {
                shape.add(d);
            }
            long end = offset + e.data().byteSize();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = java.util.Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        java.util.Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
