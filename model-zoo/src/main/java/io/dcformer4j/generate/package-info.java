/**
 * Text generation: {@link io.dcformer4j.generate.GenerationConfig} (greedy, temperature, top-k, top-p,
 * repetition penalty, seed, stop tokens and strings), the {@link io.dcformer4j.generate.Sampler}, streaming
 * through {@link io.dcformer4j.generate.TokenListener} and cancellation with
 * {@link io.dcformer4j.generate.CancellationToken}.
 */
package io.dcformer4j.generate;
