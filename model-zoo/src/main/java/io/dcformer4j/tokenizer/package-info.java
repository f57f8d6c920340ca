/**
 * Hugging Face {@code tokenizer.json} tokenizers in pure Java: byte-level BPE (GPT-2, GPT-NeoX/Pythia,
 * Qwen2 families) with added and special tokens, and a streaming decoder that never emits half a character.
 */
package io.dcformer4j.tokenizer;
