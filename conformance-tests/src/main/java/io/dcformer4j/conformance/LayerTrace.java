package io.dcformer4j.conformance;

import io.dcformer4j.model.LayerObserver;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.api.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Records the residual stream after every layer of a golden-model run (through {@link LayerObserver}) and,
 * when the logits leave tolerance, finds the first layer whose output already did against the reference's
 * {@code layer{N}_out}, so a model failure names a layer, its kind and the ops it runs, not only a logits
 * position.
 */
final class LayerTrace implements LayerObserver {
    /** Per-layer bound on the relative L2 error of the residual stream (the logits' bound: layers are no less exact). */
    static final double LAYER_REL_L2 = Tolerances.GOLDEN_REL_L2;

    private final ModelConfig config;
    private final float[][][] rows; // [layer][position][E], null where not seen
    private final List<String> calls = new ArrayList<>();

    LayerTrace(ModelConfig config, int positions) {
        this.config = config;
        this.rows = new float[config.numLayers()][positions][];
    }

    @Override
    public void afterLayer(int layer, int firstPosition, Tensor residual) {
        float[] all = residual.toFloatArray();
        int e = config.dim();
        int count = all.length / e;
        if (layer == 0) {
            calls.add((count == 1 ? "decode at " + firstPosition : "prefill of " + firstPosition + ".." + (firstPosition + count - 1)));
        }
        for (int r = 0; r < count && firstPosition + r < rows[layer].length; r++) {
            float[] row = new float[e]; // [E]
            System.arraycopy(all, r * e, row, 0, e);
            rows[layer][firstPosition + r] = row;
        }
    }

    /**
     * Where the run first left the reference: the first layer whose outputs at the recorded positions differ
     * from {@code reference[layer]} ([positions][E]) by more than {@link #LAYER_REL_L2}, with the first such
     * position, or a statement that every layer agreed (so the final norm or the LM head is to blame).
     */
    String diagnose(float[][][] reference) {
        StringBuilder perLayer = new StringBuilder();
        for (int layer = 0; layer < rows.length; layer++) {
            double diff2 = 0;
            double ref2 = 0;
            int firstBad = -1;
            for (int p = 0; p < rows[layer].length; p++) {
                float[] got = rows[layer][p];
                if (got == null) {
                    continue;
                }
                double d2 = 0;
                double r2 = 0;
                for (int j = 0; j < got.length; j++) {
                    double d = (double) got[j] - reference[layer][p][j];
                    d2 += Double.isNaN(d) ? Double.POSITIVE_INFINITY : d * d;
                    r2 += (double) reference[layer][p][j] * reference[layer][p][j];
                }
                if (firstBad < 0 && !(Math.sqrt(d2 / r2) < LAYER_REL_L2)) {
                    firstBad = p;
                }
                diff2 += d2;
                ref2 += r2;
            }
            double rel = Math.sqrt(diff2 / ref2);
            perLayer.append(perLayer.isEmpty() ? "" : ", ").append("layer ").append(layer).append(' ').append(String.format("%.2g", rel));
            if (!(rel < LAYER_REL_L2) || firstBad >= 0) {
                return "first layer out of tolerance: layer " + layer + " (" + kind(layer) + "), relative L2 error " + String.format("%.3g", rel)
                        + " (bound " + LAYER_REL_L2 + "), first at position " + firstBad + " of the calls " + calls
                        + "; " + suspects(layer, firstBad) + "; per layer so far: " + perLayer;
            }
        }
        return "every layer's output is within " + LAYER_REL_L2 + " of the reference (" + perLayer
                + "), so the final rmsNorm or the LM head linear is to blame";
    }

    /**
     * The op family to suspect: ops that treat each position alike would already differ at the first
     * recorded position, so a layer that agrees there and differs later points at the position-dependent ops.
     */
    private String suspects(int layer, int firstBad) {
        int firstSeen = 0;
        while (firstSeen < rows[layer].length && rows[layer][firstSeen] == null) {
            firstSeen++;
        }
        if (firstBad > firstSeen) {
            return "positions " + firstSeen + ".." + (firstBad - 1) + " of this layer agree, so suspect the ops that depend on the position: "
                    + (config.isLocal(layer) ? "attention with window " + config.window(layer) : "global attention")
                    + " (attentionPrefill / attentionDecode over the cache) and rope";
        }
        return "the ops of this layer: " + ops(layer);
    }

    private String kind(int layer) {
        return config.isLocal(layer) ? "local attention, window " + config.window(layer) : "global attention";
    }

    private String ops(int layer) {
        String attention = config.isLocal(layer) ? "attention with window " + config.window(layer) : "global attention";
        return "rmsNorm, linear (q, k, v, o), " + (config.useQkNorm() ? "rmsNorm qk-norm, " : "") + "rope, dynamicWeights, "
                + attention + " (attentionPrefill / attentionDecode), add, linear and " + (config.mgate() ? "mgate" : "swiglu")
                + " of the MLP";
    }
}
