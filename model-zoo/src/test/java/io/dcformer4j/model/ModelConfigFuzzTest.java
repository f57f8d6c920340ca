package io.dcformer4j.model;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;

/**
 * Coverage-guided fuzz target for {@link ModelConfig#parse}: the fuzzer's input is the text of a
 * {@code config.json} (bytes decoded as UTF-8, malformed sequences replaced).
 *
 * <p>Invariant, for every input: either a configuration whose derived values are consistent (positive sizes,
 * {@code dim} divisible by {@code n_head}, a positive FFN width, an even rotary width no larger than the head,
 * a window for every layer) or an {@link IllegalArgumentException} whose message names the file. Any other
 * exception, an input needing more than the fuzzing heap (1 GB) or more than the per-input timeout (10 s)
 * is a finding.
 */
class ModelConfigFuzzTest {

    private static final String ORIGIN = "fuzz/config.json";

    @FuzzTest
    void configJson(byte[] input) {
        ModelConfig c;
        try {
            c = ModelConfig.parse(new String(input, StandardCharsets.UTF_8), ORIGIN);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || !e.getMessage().contains(ORIGIN)) {
                throw new AssertionError("refusal does not name " + ORIGIN + ": " + e.getMessage(), e);
            }
            return;
        }
        check(c.blockSize() > 0 && c.vocabSize() > 0 && c.numLayers() > 0 && c.numHeads() > 0 && c.dim() > 0, c, "sizes");
        check(c.dim() % c.numHeads() == 0 && c.headDim() * c.numHeads() == c.dim(), c, "head size");
        check(c.intermediateSize() > 0, c, "FFN width " + c.intermediateSize());
        check(c.rotaryDim() > 0 || c.family() == ModelFamily.DCPYTHIA, c, "rotary width " + c.rotaryDim());
        check(c.rotaryDim() % 2 == 0 && c.rotaryDim() <= c.headDim(), c, "rotary width " + c.rotaryDim());
        check(!c.mgate() || (c.mgateDim() > 0 && c.intermediateSize() % c.mgateDim() == 0), c, "mgate");
        check(c.ropeBase() > 0 && c.normEps() > 0, c, "rope base / eps");
        check(c.defaultComposeRank() > 0 && c.defaultComposeHidden() > 0, c, "compose sizes");
        for (int l = 0; l < Math.min(c.numLayers(), 16); l++) {
            check(c.window(l) >= 0, c, "window of layer " + l);
        }
        check(!c.toString().isEmpty(), c, "toString");
    }

    private static void check(boolean ok, ModelConfig c, String what) {
        if (!ok) {
            throw new AssertionError("accepted an inconsistent config (" + what + "): " + c);
        }
    }
}
