/**
 * The embedding API: {@link io.dcformer4j.DCFormer} loads a model directory (or the shipped demo model) and
 * opens {@link io.dcformer4j.GenerationSession}s that generate text with streaming and cancellation.
 */
package io.dcformer4j;
