package io.dcformer4j.model.checkpoint;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Coverage-guided fuzz target for a sharded checkpoint's index ({@code model.safetensors.index.json}): the
 * fuzzer writes the index; the model directory beside it holds two valid shards
 * ({@code model-00001-of-00002.safetensors} with tensors {@code a}, {@code b};
 * {@code model-00002-of-00002.safetensors} with {@code c}), and a valid safetensors file
 * {@code outside.safetensors} lies one level up, outside the model directory.
 *
 * <p>Every input's weight map is parsed and its shard names resolved in memory
 * ({@link ShardedWeightSource#parseWeightMap}, {@link ShardedWeightSource#shardFiles}); only an index whose
 * every shard resolves is written and opened, since opening maps the shards.
 *
 * <p>Invariant, for every input: either the checkpoint opens, every tensor comes from a file inside the model
 * directory and its bytes are readable, or a {@link CheckpointException} names the index (or the shard at
 * fault). No
 * file outside the model directory is ever opened: Jazzer's file-path-traversal detector is told that only
 * paths under the model directory are allowed (and guides the fuzzer towards {@code ../outside.safetensors}),
 * so opening anything else is a finding even when the open later fails. Containment is by name, as the
 * reader checks it: symbolic links are followed, since the Hugging Face cache links every file of a snapshot
 * to a blob elsewhere. Any other exception, an input needing more than the fuzzing heap (1 GB) or more than
 * the per-input timeout (10 s) is a finding as well.
 */
class ShardedIndexFuzzTest {

    @TempDir
    static Path root;
    static Path model;
    static Path outside;

    @BeforeAll
    static void shards() throws IOException {
        model = Files.createDirectories(root.resolve("model")).toAbsolutePath().normalize();
        SafetensorsBytes.write(model.resolve("model-00001-of-00002.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
                SafetensorsBytes.f32(1, 2, 3));
        SafetensorsBytes.write(model.resolve("model-00002-of-00002.safetensors"),
                "{\"c\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", SafetensorsBytes.f32(4));
        outside = SafetensorsBytes.write(root.resolve("outside.safetensors"),
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", SafetensorsBytes.f32(5))
                .toAbsolutePath().normalize();
    }

    @FuzzTest
    void shardedIndex(byte[] input) throws IOException {
        Path index = model.resolve("model.safetensors.index.json");
        try (SilentCloseable allow = BugDetectors.setFilePathTraversalAllowPath(
                p -> p.toAbsolutePath().normalize().startsWith(model));
             SilentCloseable target = BugDetectors.setFilePathTraversalTarget(() -> outside)) {
            // The index and its shard names are checked in memory first; only an index whose every shard resolves
            // is written and opened (opening maps the shards, which is a hundred times slower).
            Map<String, Path> files;
            try {
                files = ShardedWeightSource.shardFiles(index, ShardedWeightSource.parseWeightMap(index, input));
            } catch (CheckpointException e) {
                FuzzChecks.namesTheFile(e, FuzzChecks.origin(index));
                return;
            }
            for (Path f : files.values()) {
                if (!f.toAbsolutePath().normalize().startsWith(model) || !Files.isRegularFile(f)
                        || f.getFileName().toString().endsWith(".index.json")) {
                    throw new AssertionError("accepted shard " + f + ": not a tensor file inside " + model);
                }
            }
            Files.write(index, input);
            try (WeightSource w = WeightSource.open(index)) {
                for (TensorInfo t : w.tensors().values()) {
                    if (!t.file().toAbsolutePath().normalize().startsWith(model)) {
                        throw new AssertionError("tensor '" + t.name() + "' read from " + t.file()
                                + ", outside the model directory " + model);
                    }
                }
                FuzzChecks.readsEveryTensor(w);
            } catch (CheckpointException e) {
                FuzzChecks.namesTheFile(e, model.toString()); // the index, or the shard it led to
            }
        }
    }
}
