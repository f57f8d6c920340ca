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
        distribution(name, shape).fill(v, 0, v.length, rnd);
        return v;
    }

    /**
     * The distribution {@link #generate} draws tensor {@code name} from, for writers that produce weights
     * too large for one array (they draw the same values, chunk by chunk, with {@link Uniform#fill}).
     */
    public static Uniform distribution(String name, Shape shape) {
        if (name.endsWith("norm.weight") || name.endsWith("norm.scale")) {
            return new Uniform(1.0, 0.1);
        } else if (name.endsWith(".bias")) {
            return new Uniform(0.0, 0.05);
        } else if (name.endsWith("proj.w")) {
            return new Uniform(0.0, 0.2);
        } else if (name.endsWith("dyn_w_proj.dw1") || name.endsWith("dyn_w_proj.dd")) {
            return new Uniform(0.0, 1.5 / Math.sqrt(shape.dim(0)));
        } else if (name.endsWith("dyn_w_proj.qkw")) {
            return new Uniform(0.0, 1.5 / Math.sqrt(shape.dim(2)));
        } else if (name.equals("tok_embeddings.weight")) {
            return new Uniform(0.0, 1.0);
        }
        return new Uniform(0.0, 1.7 / Math.sqrt(shape.dim(-1)));
    }

    /**
     * Uniform values in {@code mean ± spread}.
     *
     * @param mean   centre
     * @param spread half-width
     */
    public record Uniform(double mean, double spread) {
        /** Fills {@code v[from, to)} with draws from {@code rnd}, in order. */
        public void fill(float[] v, int from, int to, SplittableRandom rnd) {
            for (int i = from; i < to; i++) {
                v[i] = (float) (mean + spread * (2 * rnd.nextDouble() - 1));
            }
        }
    }
}
