/**
 * Teacher-forced scoring of texts as a library: the sum of token log-probabilities, and the {@code [ bracketed ]}
 * answer-span accuracy of the synthetic compositional evaluation (spec §8, recommended protocol), so that
 * callers other than the command line (the Spark transformers, for example) score exactly as it does.
 */
package io.dcformer4j.eval;
