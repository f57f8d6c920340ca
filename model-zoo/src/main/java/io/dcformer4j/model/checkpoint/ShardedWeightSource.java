package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A checkpoint split over several files with an index ({@code model.safetensors.index.json} or
 * {@code pytorch_model.bin.index.json}: {@code {"metadata": {...}, "weight_map": {name: file}}}). Every shard
 * named by the weight map is opened; each listed tensor must be in the shard the map names, and no tensor may
 * appear in two shards. Tensors a shard holds beyond the map are kept.
 */
final class ShardedWeightSource implements WeightSource {

    /** Index files larger than this are refused (the 6.9B model's index is about 60 KB). */
    static final long MAX_INDEX_BYTES = 64L << 20;

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path index;
    private final List<WeightSource> shards;
    private final Map<String, WeightSource> owner;
    private final SortedMap<String, TensorInfo> tensors;

    private ShardedWeightSource(Path index, List<WeightSource> shards, Map<String, WeightSource> owner,
                                SortedMap<String, TensorInfo> tensors) {
        this.index = index;
        this.shards = shards;
        this.owner = owner;
        this.tensors = Collections.unmodifiableSortedMap(tensors);
    }

    /** Opens the index and every shard it names; closes what it opened when anything is wrong. */
    static ShardedWeightSource open(Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Path dir = index.toAbsolutePath().getParent();
        Map<String, WeightSource> byFile = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                String fileName = e.getValue();
                if (byFile.containsKey(fileName)) {
                    continue;
                }
                Path shard = resolveShard(index, dir, e.getKey(), fileName);
                if (fileName.endsWith(".index.json")) {
                    throw new CheckpointException(index + ": weight_map entry for tensor '" + e.getKey() + "' names "
                            + fileName + ", another index; shards must be tensor files");
                }
                byFile.put(fileName, CheckpointOpener.openFile(shard));
            }
            Map<String, WeightSource> owner = new HashMap<>();
            SortedMap<String, TensorInfo> tensors = new TreeMap<>();
            for (WeightSource shard : byFile.values()) {
                for (TensorInfo t : shard.tensors().values()) {
                    WeightSource prev = owner.putIfAbsent(t.name(), shard);
                    if (prev != null) {
                        throw new CheckpointException(index + ": tensor '" + t.name() + "' appears in two shards: "
                                + prev.origin() + " and " + shard.origin());
                    }
                    tensors.put(t.name(), t);
                }
            }
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                WeightSource shard = byFile.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new CheckpointException(index + ": weight_map puts tensor '" + e.getKey() + "' in "
                            + e.getValue() + " but that shard has no such tensor");
                }
            }
            return new ShardedWeightSource(index, new ArrayList<>(byFile.values()), owner, tensors);
        } catch (RuntimeException e) {
            byFile.values().forEach(WeightSource::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) {
        JsonNode root;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new CheckpointException(index + ": checkpoint index of " + size + " bytes is absurd (limit "
                        + MAX_INDEX_BYTES + ")");
            }
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (JacksonException e) {
            throw new CheckpointException(index + ": bad JSON in checkpoint index: " + JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new CheckpointException(index + ": cannot read checkpoint index: " + e, e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": checkpoint index has no \"weight_map\" object");
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointException(index + ": weight_map entry for tensor '" + e.getKey() + "' is "
                        + e.getValue() + ", expected a file name");
            }
            weightMap.put(e.getKey(), e.getValue().asText());
        }
        if (weightMap.isEmpty()) {
            throw new CheckpointException(index + ": weight_map is empty");
        }
        return weightMap;
    }

    private static Path resolveShard(Path index, Path dir, String tensor, String fileName) {
        Path shard;
        try {
            Path rel = Path.of(fileName);
            shard = dir.resolve(rel).normalize();
            if (rel.isAbsolute() || !shard.startsWith(dir.normalize())) {
                throw new CheckpointException(index + ": weight_map entry for tensor '" + tensor + "' names file '"
                        + fileName + "' outside the checkpoint directory");
            }
        } catch (java.nio.file.InvalidPathException e) {
            throw new CheckpointException(index + ": weight_map entry for tensor '" + tensor + "' names invalid file '"
                    + fileName + "'", e);
        }
        if (!Files.isRegularFile(shard)) {
            throw new CheckpointException(index + ": weight_map entry for tensor '" + tensor + "' names missing file "
                    + shard);
        }
        return shard;
    }

    @Override
    public SortedMap<String, TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public MemorySegment data(String name) {
        WeightSource shard = owner.get(name);
        if (shard == null) {
            throw new IllegalArgumentException("no tensor '" + name + "' in " + index);
        }
        return shard.data(name);
    }

    @Override
    public String origin() {
        return index.toString();
    }

    @Override
    public void close() {
        for (WeightSource s : shards) {
            s.close();
        }
    }
}
