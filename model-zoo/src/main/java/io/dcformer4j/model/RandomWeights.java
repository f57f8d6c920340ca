package io.dcformer4j.model;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Generates every tensor a configuration needs with random values of a sensible scale, for tests and
 * benchmarks that need a model without a checkpoint:
 *
 * <pre>{@code
 * ModelConfig config = ModelConfig.parse(json);
 * try (MemoryWeightSource weights = RandomWeights.generate(config, DType.BF16, 42);
 *      DCFormerModel model = DCFormerModel.create(config, weights, backend);
 *      Session session = model.newSession()) {
 *     float[] logits = session.prefillLast(tokens);
 * }
 * }</pre>
 *
 * Linear weights are uniform in ±1/sqrt(fan-in); norm gains are 1 ± 0.1; biases small; the dynamic-weight
 * parameters are scaled so that every compose branch visibly moves the output. Same seed, same weights.
 */
public final class RandomWeights {
    private RandomWeights() {
    }

    /** Weights for {@code config} with the reference compose rank and width, stored as {@code dtype}. */
    public static MemoryWeightSource generate(ModelConfig config, DType dtype, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        MemoryWeightSource.Builder b = MemoryWeightSource.builder();
        var layout = WeightLayout.expected(config, config.defaultComposeRank(), config.defaultComposeHidden());
        for (Map.Entry<String, Shape> t : layout.entrySet()) {
            b.put(t.getKey(), dtype, t.getValue(), values(t.getKey(), t.getValue(), rnd));
        }
        return b.build();
    }

    private static float[] values(String name, Shape shape, SplittableRandom rnd) {
        float[] v = new float[Math.toIntExact(shape.numel())];
        if (name.endsWith("norm.weight") || name.endsWith("norm.scale")) {
            fill(v, rnd, 1.0, 0.1);
        } else if (name.endsWith(".bias")) {
            fill(v, rnd, 0.0, 0.05);
        } else if (name.endsWith("proj.w")) {
            fill(v, rnd, 0.0, 0.2);
        } else if (name.endsWith("dyn_w_proj.dw1") || name.endsWith("dyn_w_proj.dd")) {
            fill(v, rnd, 0.0, 1.5 / Math.sqrt(shape.dim(0)));
        } else if (name.endsWith("dyn_w_proj.qkw")) {
            fill(v, rnd, 0.0, 1.5 / Math.sqrt(shape.dim(2)));
        } else if (name.equals("tok_embeddings.weight")) {
            fill(v, rnd, 0.0, 1.0);
        } else {
            fill(v, rnd, 0.0, 1.7 / Math.sqrt(shape.dim(-1)));
        }
        return v;
    }

    /** Uniform values of mean {@code mean} and half-width {@code spread}. */
    private static void fill(float[] v, SplittableRandom rnd, double mean, double spread) {
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + spread * (2 * rnd.nextDouble() - 1));
        }
    }
}
