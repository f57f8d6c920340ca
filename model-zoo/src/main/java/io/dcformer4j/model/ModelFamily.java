package io.dcformer4j.model;

import java.util.Locale;

/** The two network families of the DCFormer release (spec §1.1, §1.2), named by {@code model_type}. */
public enum ModelFamily {
    /** DCFormer++: Llama-like, RMSNorm, SwiGLU (optionally mgate), no biases, full rotary. */
    DCFORMER("dcformer", "DCFormer"),
    /** DCPythia: GPT-NeoX-like, LayerNorm with bias, GELU MLP, parallel residual, partial rotary, linear biases. */
    DCPYTHIA("dcpythia", "DCPythia");

    private final String modelType;
    private final String architecture;

    ModelFamily(String modelType, String architecture) {
        this.modelType = modelType;
        this.architecture = architecture;
    }

    /** The {@code model_type} value of config.json. */
    public String modelType() {
        return modelType;
    }

    /** The {@code architectures} entry of config.json. */
    public String architecture() {
        return architecture;
    }

    /** The family with this {@code model_type}, or {@code null} when there is none. */
    static ModelFamily ofModelType(String type) {
        for (ModelFamily f : values()) {
            if (f.modelType.equals(type.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        return null;
    }

    /** The family with this {@code architectures} entry, or {@code null} when there is none. */
    static ModelFamily ofArchitecture(String arch) {
        for (ModelFamily f : values()) {
            if (f.architecture.equals(arch)) {
                return f;
            }
        }
        return null;
    }
}
