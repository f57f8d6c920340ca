/**
 * The DCFormer model family written against the backend SPI: configuration, weights, sessions with KV and
 * KW caches, prefill and decode.
 */
package io.dcformer4j.model;
