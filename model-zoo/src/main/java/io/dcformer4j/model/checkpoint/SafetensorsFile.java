package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One {@code .safetensors} file, memory-mapped read-only. The header is validated completely when the file is
 * opened (length, JSON, dtypes, shapes against byte spans, offsets inside the data area and not overlapping),
 * so later reads through {@link #data} cannot fall outside the mapping.
 *
 * <p>Layout: an unsigned little-endian 64-bit header length {@code n}, {@code n} bytes of UTF-8 JSON
 * ({@code {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}}), then the data
 * area; offsets are relative to the start of the data area.
 */
public final class SafetensorsFile extends ArenaWeightSource {

    /** Headers longer than this are refused as absurd rather than read into memory. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Set<String> KNOWN_UNSUPPORTED = Set.of("F64", "I64", "I16", "I8", "U8", "U16", "U32", "U64",
            "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");
    private static final CheckpointJson JSON = new CheckpointJson("safetensors header", MAX_HEADER_BYTES);

    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, Arena arena, MemorySegment mapped, SortedMap<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        super(file, arena, tensors, slices(mapped, tensors));
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /** Every tensor's bytes as a slice of the mapping; the header was validated, so each lies inside it. */
    private static Map<String, MemorySegment> slices(MemorySegment mapped, SortedMap<String, TensorInfo> tensors) {
        Map<String, MemorySegment> m = new LinkedHashMap<>();
        tensors.forEach((name, info) -> m.put(name, mapped.asSlice(info.offset(), info.byteSize())));
        return m;
    }

    /**
     * Maps and validates a safetensors file.
     *
     * @throws CheckpointException naming the file, tensor and offending value when the file is malformed
     */
    public static SafetensorsFile open(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read safetensors file: " + e, e);
        }
        if (size < 8) {
            throw new CheckpointException(file + ": " + size + " bytes is too short for a safetensors file "
                    + "(the 8-byte header length alone is missing)");
        }
        Arena arena = Arena.ofShared();
        try {
            MemorySegment mapped;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            SortedMap<String, TensorInfo> tensors = readHeader(file, mapped, metadata);
            return new SafetensorsFile(file, arena, mapped, tensors, metadata);
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(file + ": cannot map safetensors file: " + e, e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Validates the length prefix and header of the safetensors bytes in {@code whole} (the complete file) and
     * returns its tensors, each inside {@code whole}; {@code file} only names it in errors. Separate from
     * {@link #open} so that the checks can run on bytes in memory (the fuzz target does).
     *
     * @throws CheckpointException naming the file, tensor and offending value when the bytes are malformed
     */
    static SortedMap<String, TensorInfo> readHeader(Path file, MemorySegment whole, Map<String, String> metadata) {
        long size = whole.byteSize();
        if (size < 8) {
            throw new CheckpointException(file + ": " + size + " bytes is too short for a safetensors file "
                    + "(the 8-byte header length alone is missing)");
        }
        long headerLen = whole.get(LE_LONG, 0);
        if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
            throw new CheckpointException(file + ": header length " + Long.toUnsignedString(headerLen)
                    + " is absurd (limit " + MAX_HEADER_BYTES + " bytes)");
        }
        if (headerLen > size - 8) {
            throw new CheckpointException(file + ": header length " + headerLen + " runs past the end of the file ("
                    + size + " bytes, at most " + (size - 8) + " available)");
        }
        byte[] header = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        long dataStart = 8 + headerLen;
        return parseHeader(file, header, dataStart, size - dataStart, metadata);
    }

    private static SortedMap<String, TensorInfo> parseHeader(Path file, byte[] header, long dataStart, long dataLen,
                                                             Map<String, String> metadata) {
        JsonNode root = JSON.read(file, header);
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": safetensors header is not a JSON object (got "
                    + (root == null ? "nothing" : root.getNodeType()) + ")");
        }
        SortedMap<String, TensorInfo> tensors = new TreeMap<>();
        List<long[]> spans = new ArrayList<>(); // [begin, end, index into names]
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            JsonNode node = e.getValue();
            if (name.equals("__metadata__")) {
                readMetadata(file, node, metadata);
                continue;
            }
            String where = file + ": tensor '" + name + "'";
            if (!node.isObject()) {
                throw new CheckpointException(where + ": entry is " + node.getNodeType() + ", expected an object");
            }
            DType dtype = parseDType(where, node.get("dtype"));
            Shape shape = parseShape(where, node.get("shape"));
            long[] off = parseOffsets(where, node.get("data_offsets"));
            if (dtype.isQuantized() && (shape.rank() == 0 || shape.dim(-1) % dtype.blockSize() != 0)) {
                throw new CheckpointException(where + ": shape " + shape + " of " + dtype + " needs a last axis that is a"
                        + " multiple of " + dtype.blockSize());
            }
            long expected;
            try {
                expected = dtype.bytesFor(shape.numel());
            } catch (IllegalArgumentException ex) {
                throw new CheckpointException(where + ": shape " + shape + " of " + dtype + " is more than the "
                        + Long.MAX_VALUE + " bytes a file can address");
            }
            if (off[1] < off[0]) {
                throw new CheckpointException(where + ": data_offsets [" + off[0] + ", " + off[1] + "] end before they begin");
            }
            if (off[1] > dataLen) {
                throw new CheckpointException(where + ": data_offsets [" + off[0] + ", " + off[1]
                        + "] out of range: the data area has " + dataLen + " bytes (file truncated?)");
            }
            if (off[1] - off[0] != expected) {
                throw new CheckpointException(where + ": shape " + shape + " of " + dtype + " needs " + expected
                        + " bytes but data_offsets [" + off[0] + ", " + off[1] + "] span " + (off[1] - off[0]));
            }
            spans.add(new long[] {off[0], off[1], names.size()});
            names.add(name);
            tensors.put(name, new TensorInfo(name, dtype, shape, file, dataStart + off[0], expected));
        }
        checkOverlaps(file, spans, names);
        return tensors;
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) {
            throw new CheckpointException(file + ": __metadata__ is " + node.getNodeType() + ", expected an object");
        }
        for (Map.Entry<String, JsonNode> m : node.properties()) {
            if (!m.getValue().isTextual()) {
                throw new CheckpointException(file + ": __metadata__ value of '" + m.getKey() + "' is "
                        + m.getValue().getNodeType() + ", expected a string");
            }
            metadata.put(m.getKey(), m.getValue().asText());
        }
    }

    private static DType parseDType(String where, JsonNode node) {
        if (node == null || !node.isTextual()) {
            throw new CheckpointException(where + ": dtype is " + describe(node) + ", expected a string");
        }
        String s = node.asText();
        return switch (s) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "I32" -> DType.I32;
            case "Q8_0" -> DType.Q8_0;   // our extension: llama.cpp's Q8_0 blocks (convert --quantize q8_0)
            default -> throw new CheckpointException(where + ": " + (KNOWN_UNSUPPORTED.contains(s) ? "unsupported" : "unknown")
                    + " dtype '" + s + "' (supported: F32, F16, BF16, I32, Q8_0)");
        };
    }

    private static Shape parseShape(String where, JsonNode node) {
        if (node == null || !node.isArray()) {
            throw new CheckpointException(where + ": shape is " + describe(node) + ", expected an array of integers");
        }
        int[] dims = new int[node.size()];
        for (int i = 0; i < dims.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0 || d.asLong() > Integer.MAX_VALUE) {
                throw new CheckpointException(where + ": shape " + node + " has invalid dimension " + d + " at axis " + i);
            }
            dims[i] = (int) d.asLong();
        }
        try {
            return Shape.of(dims);
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": shape " + node + " has more than " + Long.MAX_VALUE + " elements");
        }
    }

    private static long[] parseOffsets(String where, JsonNode node) {
        if (node == null || !node.isArray() || node.size() != 2) {
            throw new CheckpointException(where + ": data_offsets is " + describe(node) + ", expected [begin, end]");
        }
        long[] r = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                throw new CheckpointException(where + ": data_offsets " + node + " has invalid value " + d
                        + " (offsets are non-negative integers)");
            }
            r[i] = d.asLong();
        }
        return r;
    }

    private static void checkOverlaps(Path file, List<long[]> spans, List<String> names) {
        List<long[]> nonEmpty = new ArrayList<>();
        for (long[] s : spans) {
            if (s[1] > s[0]) {
                nonEmpty.add(s);
            }
        }
        nonEmpty.sort(Comparator.comparingLong(s -> s[0]));
        long[] prev = null;
        for (long[] s : nonEmpty) {
            if (prev != null && s[0] < prev[1]) {
                throw new CheckpointException(file + ": tensors '" + names.get((int) prev[2]) + "' [" + prev[0] + ", "
                        + prev[1] + ") and '" + names.get((int) s[2]) + "' [" + s[0] + ", " + s[1] + ") overlap");
            }
            if (prev == null || s[1] > prev[1]) {
                prev = s;
            }
        }
    }

    private static String describe(JsonNode node) {
        return node == null ? "missing" : node.toString();
    }

    /** The {@code __metadata__} strings of the header (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }
}
