package io.dcformer4j.model.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Coverage-guided fuzz target for {@link RestrictedUnpickler}: the fuzzer's input is the pickle.
 *
 * <p>Invariant, for every input: {@link RestrictedUnpickler#load} returns a plain value or throws a
 * {@link CheckpointException} naming the pickle; it executes nothing (it can only build values and refuse
 * globals outside its allow-list), runs at most {@link RestrictedUnpickler#MAX_OPERATIONS} opcodes, and so
 * never needs more than the fuzzing heap (1 GB) or the per-input timeout (10 s). Self-referencing and deeply
 * nested values must not overflow the stack. Any other exception or error is a finding.
 */
class UnpicklerFuzzTest {

    private static final String WHERE = "fuzz.bin!archive/data.pkl";

    @FuzzTest
    void unpickle(byte[] input) {
        try {
            RestrictedUnpickler.load(input, WHERE);
        } catch (CheckpointException e) {
            FuzzChecks.namesTheFile(e, WHERE);
        }
    }
}
