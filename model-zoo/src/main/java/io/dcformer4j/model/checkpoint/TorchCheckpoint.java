package io.dcformer4j.model.checkpoint;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.checkpoint.RestrictedUnpickler.StorageRef;
import io.dcformer4j.model.checkpoint.RestrictedUnpickler.TensorRef;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A PyTorch {@code .bin} state_dict: a zip archive holding {@code <top>/data.pkl} (the pickled dict) and one
 * stored entry {@code <top>/data/<key>} per storage. The pickle is read by {@link RestrictedUnpickler}, which
 * executes nothing. Contiguous tensors are slices of the mapped archive (no copy); tensors with other strides
 * are gathered once into memory owned by this source, and I64 tensors (never weights) are narrowed to I32 when
 * every value fits, since the SPI has no 64-bit integer type.
 *
 * <p>{@link TensorInfo#offset()} is the absolute offset of the data in the archive file, or {@code -1} for a
 * tensor that was materialised in memory.
 */
final class TorchCheckpoint extends ArenaWeightSource {

    /** Pickles larger than this are refused: a state_dict's pickle holds names and shapes only. */
    static final long MAX_PICKLE_BYTES = 64L << 20;

    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TorchCheckpoint(Path file, Arena arena, SortedMap<String, TensorInfo> tensors, Map<String, MemorySegment> data) {
        super(file, arena, tensors, data);
    }

    /**
     * Maps the archive, reads its pickle and resolves every tensor.
     *
     * @throws CheckpointException naming the file, the tensor or global, and the offending value
     */
    static TorchCheckpoint open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            long size = Files.size(file);
            MemorySegment zip;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                zip = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            if (size >= 2 && Byte.toUnsignedInt(zip.get(ValueLayout.JAVA_BYTE, 0)) == 0x80) {
                throw new CheckpointException(file + ": legacy (pre-1.6, non-zip) torch.save format is not supported;"
                        + " re-save it with torch.save from PyTorch 1.6 or later");
            }
            Map<String, ZipDirectory.Entry> entries = ZipDirectory.read(file, zip);
            String top = topFolder(file, entries);
            checkByteOrder(file, zip, entries.get(top + "byteorder"));
            ZipDirectory.Entry pklEntry = stored(file, entries.get(top + "data.pkl"));
            if (pklEntry.size() > MAX_PICKLE_BYTES) {
                throw new CheckpointException(file + ": " + top + "data.pkl has " + pklEntry.size()
                        + " bytes, more than a state_dict pickle can reasonably need (" + MAX_PICKLE_BYTES + ")");
            }
            byte[] pkl = zip.asSlice(pklEntry.dataOffset(), pklEntry.size()).toArray(ValueLayout.JAVA_BYTE);
            Object root = RestrictedUnpickler.load(pkl, file + "!" + top + "data.pkl");
            if (!(root instanceof Map<?, ?> dict)) {
                throw new CheckpointException(file + ": the pickle holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                        + ", expected a state_dict (a dict of tensors)");
            }
            SortedMap<String, TensorInfo> tensors = new TreeMap<>();
            Map<String, MemorySegment> data = new HashMap<>();
            Map<String, ZipDirectory.Entry> storages = new HashMap<>();
            Map<String, StorageRef> refs = new HashMap<>();
            for (Map.Entry<?, ?> e : dict.entrySet()) {
                if (!(e.getKey() instanceof String name)) {
                    throw new CheckpointException(file + ": state_dict key " + e.getKey() + " is not a string");
                }
                if (!(e.getValue() instanceof TensorRef t)) {
                    throw new CheckpointException(file + ": state_dict entry '" + name + "' is a "
                            + (e.getValue() == null ? "None" : e.getValue().getClass().getSimpleName()) + ", not a tensor");
                }
                StorageRef first = refs.putIfAbsent(t.storage().key(), t.storage());
                if (first != null && !first.equals(t.storage())) {
                    throw new CheckpointException(file + ": tensor '" + name + "' describes storage '" + t.storage().key()
                            + "' as " + t.storage().storageClass() + " of " + t.storage().numel() + " elements, an earlier tensor as "
                            + first.storageClass() + " of " + first.numel());
                }
                ZipDirectory.Entry storage = storages.computeIfAbsent(t.storage().key(),
                        k -> storageEntry(file, entries, top, name, t.storage()));
                resolve(file, zip, arena, name, t, storage, tensors, data);
            }
            return new TorchCheckpoint(file, arena, tensors, data);
        } catch (IOException e) {
            arena.close();
            throw new CheckpointException(file + ": cannot read PyTorch checkpoint: " + e, e);
        } catch (IndexOutOfBoundsException e) {
            arena.close();
            throw new CheckpointException(file + ": malformed PyTorch checkpoint (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static String topFolder(Path file, Map<String, ZipDirectory.Entry> entries) {
        String found = null;
        for (String name : entries.keySet()) {
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (found != null) {
                    throw new CheckpointException(file + ": two pickles in the archive: " + found + "data.pkl and " + name);
                }
                found = name.substring(0, slash + 1);
            }
        }
        if (found == null) {
            throw new CheckpointException(file + ": no <folder>/data.pkl entry in the archive (not a torch.save file?); entries: "
                    + entries.keySet().stream().limit(10).toList());
        }
        return found;
    }

    /** PyTorch 2 records the byte order of the storages; older versions wrote little-endian only. */
    private static void checkByteOrder(Path file, MemorySegment zip, ZipDirectory.Entry entry) {
        if (entry == null) {
            return;
        }
        stored(file, entry);
        String order = new String(zip.asSlice(entry.dataOffset(), Math.min(entry.size(), 16)).toArray(ValueLayout.JAVA_BYTE),
                java.nio.charset.StandardCharsets.US_ASCII).strip();
        if (!order.equals("little")) {
            throw new CheckpointException(file + ": storages have byteorder '" + order + "'; only little-endian is supported");
        }
    }

    private static ZipDirectory.Entry stored(Path file, ZipDirectory.Entry e) {
        if (e.method() != 0 || e.compressedSize() != e.size()) {
            throw new CheckpointException(file + ": archive entry '" + e.name() + "' is compressed (method " + e.method()
                    + "); torch.save stores entries uncompressed and only stored entries can be mapped");
        }
        return e;
    }

    private static ZipDirectory.Entry storageEntry(Path file, Map<String, ZipDirectory.Entry> entries, String top,
                                                   String tensor, StorageRef ref) {
        String entryName = top + "data/" + ref.key();
        ZipDirectory.Entry e = entries.get(entryName);
        if (e == null) {
            throw new CheckpointException(file + ": tensor '" + tensor + "' refers to storage '" + ref.key()
                    + "' but the archive has no entry " + entryName);
        }
        stored(file, e);
        int elementSize = elementSize(file, tensor, ref);
        long expected;
        try {
            expected = Math.multiplyExact(ref.numel(), (long) elementSize);
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file + ": storage '" + ref.key() + "' of tensor '" + tensor + "' claims "
                    + ref.numel() + " elements of " + elementSize + " bytes, more than the " + Long.MAX_VALUE
                    + " bytes a file can address");
        }
        if (e.size() != expected) {
            throw new CheckpointException(file + ": storage entry " + entryName + " (tensor '" + tensor + "') has "
                    + e.size() + " bytes, expected " + ref.numel() + " elements of " + ref.storageClass() + " = " + expected);
        }
        return e;
    }

    private static int elementSize(Path file, String tensor, StorageRef ref) {
        return switch (ref.storageClass()) {
            case "torch.FloatStorage", "torch.IntStorage" -> 4;
            case "torch.HalfStorage", "torch.BFloat16Storage" -> 2;
            case "torch.LongStorage" -> 8;
            default -> throw new CheckpointException(file + ": tensor '" + tensor + "' uses storage class "
                    + ref.storageClass() + " which carries no element type; supported: Float, Half, BFloat16, Int, Long");
        };
    }

    private static DType dtype(String storageClass) {
        return switch (storageClass) {
            case "torch.FloatStorage" -> DType.F32;
            case "torch.HalfStorage" -> DType.F16;
            case "torch.BFloat16Storage" -> DType.BF16;
            default -> DType.I32;
        };
    }

    private static void resolve(Path file, MemorySegment zip, Arena arena, String name, TensorRef t,
                                ZipDirectory.Entry storage, SortedMap<String, TensorInfo> tensors,
                                Map<String, MemorySegment> data) {
        String where = file + ": tensor '" + name + "'";
        int es = elementSize(file, name, t.storage());
        Shape shape;
        try {
            shape = Shape.ofLongs(t.size());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new CheckpointException(where + ": invalid size " + Arrays.toString(t.size()), e);
        }
        long numel = shape.numel();
        long lastIndex = t.storageOffset();
        boolean contiguous = true;
        long expectedStride = 1;
        try {
            for (int i = t.size().length - 1; i >= 0; i--) {
                if (t.size()[i] == 0) {
                    lastIndex = -1;
                }
                if (t.size()[i] > 1 && t.stride()[i] != expectedStride) {
                    contiguous = false;
                }
                expectedStride = Math.multiplyExact(expectedStride, t.size()[i]);
                if (lastIndex >= 0) {
                    lastIndex = Math.addExact(lastIndex, Math.multiplyExact(t.size()[i] - 1, t.stride()[i]));
                }
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(where + ": size " + Arrays.toString(t.size()) + " with stride "
                    + Arrays.toString(t.stride()) + " overflows");
        }
        if (numel > 0 && lastIndex >= t.storage().numel()) {
            throw new CheckpointException(where + ": view (offset " + t.storageOffset() + ", size "
                    + Arrays.toString(t.size()) + ", stride " + Arrays.toString(t.stride())
                    + ") reaches element " + lastIndex + " of a storage of " + t.storage().numel());
        }
        MemorySegment storageBytes = zip.asSlice(storage.dataOffset(), storage.size());
        MemorySegment bytes;
        long offset;
        if (numel == 0) {
            bytes = arena.allocate(0);
            offset = -1;
        } else if (contiguous) {
            offset = storage.dataOffset() + t.storageOffset() * es;
            bytes = storageBytes.asSlice(t.storageOffset() * es, numel * es);
        } else {
            if (numel > t.storage().numel()) {
                throw new CheckpointException(where + ": strided view with " + numel + " elements over a storage of "
                        + t.storage().numel() + " (an expanded tensor); save it contiguous");
            }
            bytes = gather(arena, storageBytes, t, es, numel);
            offset = -1;
        }
        DType dtype = dtype(t.storage().storageClass());
        if (es == 8) {
            bytes = narrowToI32(where, arena, bytes, numel);
            offset = -1;
        }
        tensors.put(name, new TensorInfo(name, dtype, shape, file, offset, numel * dtype.byteSize()));
        data.put(name, bytes);
    }

    /** Copies a strided view into row-major order. */
    private static MemorySegment gather(Arena arena, MemorySegment storage, TensorRef t, int es, long numel) {
        MemorySegment out = arena.allocate(numel * es, 8); // [numel] elements, row-major
        long[] size = t.size();
        long[] idx = new long[size.length];
        for (long i = 0; i < numel; i++) {
            long src = t.storageOffset();
            for (int d = 0; d < size.length; d++) {
                src += idx[d] * t.stride()[d];
            }
            MemorySegment.copy(storage, src * es, out, i * es, es);
            for (int d = size.length - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out;
    }

    private static MemorySegment narrowToI32(String where, Arena arena, MemorySegment longs, long numel) {
        MemorySegment out = arena.allocate(numel * 4, 4); // [numel] I32
        for (long i = 0; i < numel; i++) {
            long v = longs.get(LE_LONG, i * 8);
            if (v != (int) v) {
                throw new CheckpointException(where + ": I64 value " + v + " at element " + i
                        + " does not fit I32 (the only integer type of the SPI)");
            }
            out.set(LE_INT, i * 4, (int) v);
        }
        return out;
    }
}
