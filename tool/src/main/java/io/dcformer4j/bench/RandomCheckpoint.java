package io.dcformer4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Numerics;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.RandomWeights;
import io.dcformer4j.model.WeightLayout;
import io.dcformer4j.model.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Writes a checkpoint of random weights for a configuration to a directory, in the layout a released model comes
 * in: {@code config.json}, one safetensors shard per layer plus one for the embedding, final norm and LM head, and
 * {@code model.safetensors.index.json}. Only one shard is ever in memory, so a model larger than the machine's
 * memory can be written; the model then loads through the ordinary (memory-mapped) checkpoint path.
 *
 * <p>Values follow {@link RandomWeights#distribution}; each tensor draws from its own generator seeded by the run's
 * seed and the tensor's name, so the same seed gives the same bytes whatever the shard order.
 */
public final class RandomCheckpoint {
    /** The index file name the loader looks for. */
    public static final String INDEX = "model.safetensors.index.json";
    /** The {@code __metadata__} / index metadata key that marks a checkpoint as ours and says what it holds. */
    public static final String MARK = "dcformer4j_random_weights";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK = 1 << 20;

    private RandomCheckpoint() {
    }

    /**
     * What a checkpoint written by {@link #write} holds: it is reused by a later run that asks for the same thing.
     *
     * @param configJson the {@code config.json} text
     * @param dtype      storage type of every tensor
     * @param seed       seed of the values
     */
    public record Spec(String configJson, DType dtype, long seed) {
        /** The mark written into the index (a digest of the config text, the dtype and the seed). */
        String mark() {
            return Integer.toHexString(configJson.hashCode()) + "/" + dtype + "/" + seed;
        }
    }

    /** Whether {@code dir} already holds the checkpoint {@code spec} describes (written by {@link #write}). */
    public static boolean holds(Path dir, Spec spec) {
        Path index = dir.resolve(INDEX);
        if (!Files.isRegularFile(index) || !Files.isRegularFile(dir.resolve("config.json"))) {
            return false;
        }
        try {
            var meta = JSON.readTree(index.toFile()).path("metadata");
            return spec.mark().equals(meta.path(MARK).asText(null))
                    && spec.configJson().equals(Files.readString(dir.resolve("config.json")));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes the checkpoint into {@code dir} (created if needed; files of the same names are replaced).
     *
     * @param progress receives one line per shard
     * @return the bytes of all tensors
     * @throws IllegalArgumentException when the configuration is invalid or the dtype is not F32, BF16 or F16
     */
    public static long write(Path dir, Spec spec, Consumer<String> progress) {
        DType dtype = spec.dtype();
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16) {
            throw new IllegalArgumentException("random checkpoint: dtype must be F32, BF16 or F16, got " + dtype);
        }
        ModelConfig config = ModelConfig.parse(spec.configJson(), "random checkpoint config");
        SortedMap<String, Shape> layout = WeightLayout.expected(config, config.defaultComposeRank(),
                config.defaultComposeHidden());
        Map<String, List<String>> shards = new LinkedHashMap<>();
        for (String name : layout.keySet()) {
            shards.computeIfAbsent(shardOf(name, config.numLayers()), k -> new ArrayList<>()).add(name);
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(INDEX)); // a half-written checkpoint is never taken for a whole one
            Files.writeString(dir.resolve("config.json"), spec.configJson());
        } catch (IOException e) {
            throw new UncheckedIOException("random checkpoint: cannot write to " + dir + ": " + e.getMessage(), e);
        }
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        int done = 0;
        for (var shard : shards.entrySet()) {
            progress.accept("writing random weights: " + shard.getKey() + " (" + (++done) + "/" + shards.size() + ")");
            try (Arena arena = Arena.ofShared()) {
                List<SafetensorsWriter.Entry> entries = shard.getValue().parallelStream()
                        .map(name -> entry(name, layout.get(name), dtype, spec.seed(), arena)).toList();
                SafetensorsWriter.write(dir.resolve(shard.getKey()), entries, Map.of("format", "pt"));
                for (var e : entries) {
                    weightMap.put(e.name(), shard.getKey());
                    total += e.data().byteSize();
                }
            }
        }
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total).put(MARK, spec.mark());
        ObjectNode map = index.putObject("weight_map");
        weightMap.forEach(map::put);
        try {
            Files.writeString(dir.resolve(INDEX), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("random checkpoint: cannot write " + dir.resolve(INDEX) + ": " + e.getMessage(), e);
        }
        return total;
    }

    /** Layer tensors go to their layer's shard, everything else (embedding, final norm, head) to one more. */
    static String shardOf(String name, int layers) {
        int width = String.valueOf(layers).length();
        if (name.startsWith("layers.")) {
            int end = name.indexOf('.', "layers.".length());
            int layer = Integer.parseInt(name.substring("layers.".length(), end));
            return String.format("model-layer-%0" + width + "d.safetensors", layer);
        }
        return "model-embedding-head.safetensors";
    }

    private static SafetensorsWriter.Entry entry(String name, Shape shape, DType dtype, long seed, Arena arena) {
        long n = shape.numel();
        MemorySegment data = arena.allocate(n * dtype.byteSize(), 64); // [numel] in dtype
        RandomWeights.Uniform dist = RandomWeights.distribution(name, shape);
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
        float[] chunk = new float[(int) Math.min(CHUNK, n)];
        for (long off = 0; off < n; off += chunk.length) {
            int len = (int) Math.min(chunk.length, n - off);
            dist.fill(chunk, 0, len, rnd);
            store(data, off, chunk, len, dtype);
        }
        return new SafetensorsWriter.Entry(name, dtype, shape, data);
    }

    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static void store(MemorySegment data, long first, float[] v, int len, DType dtype) {
        for (int i = 0; i < len; i++) {
            long at = first + i;
            switch (dtype) {
                case BF16 -> data.setAtIndex(SHORT_LE, at, Numerics.floatToBf16(v[i]));
                case F16 -> data.setAtIndex(SHORT_LE, at, Numerics.floatToF16(v[i]));
                default -> data.setAtIndex(FLOAT_LE, at, v[i]);
            }
        }
    }
}
