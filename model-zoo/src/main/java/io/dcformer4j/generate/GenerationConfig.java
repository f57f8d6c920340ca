package io.dcformer4j.generate;

import java.util.List;
import java.util.Set;

/**
 * How to generate: length, sampling and stopping. Immutable; build with {@link #builder()}.
 *
 * <pre>{@code
 * GenerationConfig cfg = GenerationConfig.builder()
 *         .maxNewTokens(64).temperature(0.8).topK(40).topP(0.95).seed(7)
 *         .stopStrings(List.of("\n\n")).build();
 * }</pre>
 *
 * <p>Sampling order per step: repetition penalty on the raw logits, then (temperature 0) argmax, or
 * temperature scaling, top-k, softmax, top-p, and one draw from a generator seeded with {@link #seed()}
 * at the start of each generation (same seed, same prompt, same model: same output).
 *
 * @param maxNewTokens      upper bound on generated tokens (≥ 1)
 * @param temperature       0 for greedy decoding, else the softmax temperature (> 0)
 * @param topK              keep only the k most likely tokens (0: off)
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p (1: off)
 * @param repetitionPenalty divide positive (multiply negative) logits of tokens already in the context by
 *                          this (1: off)
 * @param seed              seed of the sampling generator
 * @param stopTokens        token ids that end generation (not part of the returned text)
 * @param stopStrings       strings that end generation when they appear in the output (cut from the text)
 * @param stopOnSpecial     whether any special token of the tokenizer (such as {@code <|endoftext|>}) ends generation
 */
public record GenerationConfig(int maxNewTokens, double temperature, int topK, double topP, double repetitionPenalty,
                               long seed, Set<Integer> stopTokens, List<String> stopStrings, boolean stopOnSpecial) {

    /** Validates and freezes the fields. */
    public GenerationConfig {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or a positive number, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be 0 (off) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be a positive number (1 = off), got " + repetitionPenalty);
        }
        stopTokens = Set.copyOf(stopTokens);
        stopStrings = List.copyOf(stopStrings);
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens, stopping at special tokens. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return builder().maxNewTokens(maxNewTokens).build();
    }

    /** A builder with the defaults: 64 tokens, greedy, no top-k/top-p/penalty, seed 0, stop on special tokens. */
    public static Builder builder() {
        return new Builder();
    }

    /** Whether decoding is greedy (temperature 0). */
    public boolean isGreedy() {
        return temperature == 0;
    }

    /** A builder initialised with this configuration. */
    public Builder toBuilder() {
        return new Builder().maxNewTokens(maxNewTokens).temperature(temperature).topK(topK).topP(topP)
                .repetitionPenalty(repetitionPenalty).seed(seed).stopTokens(stopTokens).stopStrings(stopStrings)
                .stopOnSpecial(stopOnSpecial);
    }

    /** Builds a {@link GenerationConfig}; validation happens in {@link #build()}. */
    public static final class Builder {
        private int maxNewTokens = 64;
        private double temperature;
        private int topK;
        private double topP = 1.0;
        private double repetitionPenalty = 1.0;
        private long seed;
        private Set<Integer> stopTokens = Set.of();
        private List<String> stopStrings = List.of();
        private boolean stopOnSpecial = true;

        private Builder() {
        }

        /** Upper bound on generated tokens. */
        public Builder maxNewTokens(int v) {
            maxNewTokens = v;
            return this;
        }

        /** 0 for greedy, else the sampling temperature. */
        public Builder temperature(double v) {
            temperature = v;
            return this;
        }

        /** Keep the k most likely tokens (0: off). */
        public Builder topK(int v) {
            topK = v;
            return this;
        }

        /** Nucleus threshold (1: off). */
        public Builder topP(double v) {
            topP = v;
            return this;
        }

        /** Penalty for tokens already in the context (1: off). */
        public Builder repetitionPenalty(double v) {
            repetitionPenalty = v;
            return this;
        }

        /** Seed of the sampling generator. */
        public Builder seed(long v) {
            seed = v;
            return this;
        }

        /** Token ids that end generation. */
        public Builder stopTokens(Set<Integer> v) {
            stopTokens = v;
            return this;
        }

        /** Strings that end generation. */
        public Builder stopStrings(List<String> v) {
            stopStrings = v;
            return this;
        }

        /** Whether special tokens end generation (default true). */
        public Builder stopOnSpecial(boolean v) {
            stopOnSpecial = v;
            return this;
        }

        /** The validated configuration. */
        public GenerationConfig build() {
            return new GenerationConfig(maxNewTokens, temperature, topK, topP, repetitionPenalty, seed, stopTokens,
                    stopStrings, stopOnSpecial);
        }
    }
}
