package io.dcformer4j.langchain4j;

import io.dcformer4j.DCFormer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The builder all four dcformer4j LangChain4j models share: where the model comes from and the default
 * generation settings (greedy unless a temperature is set; no token limit but the context unless
 * {@code maxTokens} is set).
 *
 * @param <B> the concrete builder
 * @param <T> the model it builds
 */
public abstract class DCFormerModelBuilder<B extends DCFormerModelBuilder<B, T>, T> {
    Path modelPath;
    DCFormer model;
    String backend;
    String modelName;
    double temperature;
    double topP = 1.0;
    int topK;
    Integer maxTokens;
    long seed;
    final List<String> stop = new ArrayList<>();

    DCFormerModelBuilder() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    /** Model directory (config.json, checkpoint, tokenizer.json); default: the shipped demo model. */
    public B modelPath(Path v) {
        modelPath = v;
        return self();
    }

    /** An already loaded model to use (the caller keeps owning it); instead of {@link #modelPath}. */
    public B model(DCFormer v) {
        model = v;
        return self();
    }

    /** Backend name ({@code cpu}, {@code cuda}); default: the selection rules. */
    public B backend(String v) {
        backend = v;
        return self();
    }

    /** The model name reported in responses. */
    public B modelName(String v) {
        modelName = v;
        return self();
    }

    /** Sampling temperature, 0 (the default) for greedy decoding. */
    public B temperature(double v) {
        temperature = v;
        return self();
    }

    /** Nucleus threshold (default 1: off). */
    public B topP(double v) {
        topP = v;
        return self();
    }

    /** Keep the k most likely tokens (default 0: off). */
    public B topK(int v) {
        topK = v;
        return self();
    }

    /** Most tokens to generate (default: up to the context). */
    public B maxTokens(Integer v) {
        maxTokens = v;
        return self();
    }

    /** Sampling seed (default 0): same seed, same settings, same text. */
    public B seed(long v) {
        seed = v;
        return self();
    }

    /** Strings that end generation. */
    public B stop(List<String> v) {
        stop.clear();
        stop.addAll(v);
        return self();
    }

    /** Loads (or wraps) the model and builds. */
    public abstract T build();
}
