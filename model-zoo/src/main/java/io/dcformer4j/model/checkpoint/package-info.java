/**
 * Checkpoint readers and writers: safetensors (single file or sharded with an index), PyTorch {@code .bin}
 * state_dicts read through a restricted unpickler that executes nothing, a streaming converter to
 * safetensors, and the name normalisation of spec §5.3. Tensor data is memory-mapped wherever the format
 * stores it contiguously; segments are little-endian and not necessarily aligned, so read them with the
 * {@code *_UNALIGNED} value layouts.
 */
package io.dcformer4j.model.checkpoint;
