package io.dcformer4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The shapes of the two released checkpoints (their {@code config.json}, spec §1.8), which {@code bench} measures
 * with random weights: a model of the real size on this machine without downloading it.
 */
public enum ReleasedShape {
    /** Caiyun-AI/DCFormer-2.8B: E 2560, N 32, D 80, F 6912, 32 layers, even layers local (W 256). */
    DCFORMER_2_8B("dcformer-2.8b"),
    /** Caiyun-AI/DCPythia-6.9B: E 4096, N 32, D 128, F 16384, 32 layers, rotary 0.25, parallel residual, biases. */
    DCPYTHIA_6_9B("dcpythia-6.9b");

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String presetName;

    ReleasedShape(String presetName) {
        this.presetName = presetName;
    }

    /** The name {@code bench --preset} takes. */
    public String presetName() {
        return presetName;
    }

    /** The shape called {@code name} (case-insensitive), if it is one of these. */
    public static Optional<ReleasedShape> byName(String name) {
        return Arrays.stream(values()).filter(s -> s.presetName.equals(name.toLowerCase(Locale.ROOT))).findFirst();
    }

    /** The preset names. */
    public static List<String> names() {
        return Arrays.stream(values()).map(ReleasedShape::presetName).toList();
    }

    /** The released {@code config.json}. */
    public String configJson() {
        String resource = presetName + ".config.json";
        try (InputStream in = ReleasedShape.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("bench: resource " + resource + " is missing from the tool jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot read " + resource, e);
        }
    }

    /**
     * The released {@code config.json} with fewer layers (for a quick look, or tests): every other field
     * stays as released.
     *
     * @throws IllegalArgumentException when {@code layers} is not in [1, released layer count]
     */
    public String configJson(int layers) {
        try {
            ObjectNode root = (ObjectNode) JSON.readTree(configJson());
            int released = root.get("n_layer").asInt();
            if (layers < 1 || layers > released) {
                throw new IllegalArgumentException("bench: --layers must be in [1, " + released + "] for " + presetName
                        + ", got " + layers);
            }
            root.put("n_layer", layers);
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot read the config of " + presetName, e);
        }
    }
}
