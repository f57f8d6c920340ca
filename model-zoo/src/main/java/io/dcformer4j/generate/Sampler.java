package io.dcformer4j.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Chooses the next token from logits under a {@link GenerationConfig}. Written for clarity rather than speed
 * (the forward pass dominates): plain loops in double precision, a full sort only when top-k or top-p is on.
 * One sampler per generation: it owns the seeded generator and the set of tokens already in the context.
 */
public final class Sampler {
    private final GenerationConfig config;
    private final SplittableRandom random;
    private final BitSet seen = new BitSet();

    /** A sampler whose generator is seeded with {@link GenerationConfig#seed()}. */
    public Sampler(GenerationConfig config) {
        this.config = config;
        this.random = new SplittableRandom(config.seed());
    }

    /** Records a token as part of the context (for the repetition penalty). */
    public void observe(int token) {
        seen.set(token);
    }

    /** Records tokens as part of the context. */
    public void observe(int[] tokens) {
        for (int t : tokens) {
            seen.set(t);
        }
    }

    /** Picks the next token; {@code logits} is not modified. The chosen token is recorded as seen. */
    public int next(float[] logits) {
        return next(logits, logits.length);
    }

    /**
     * Picks the next token among ids {@code 0 .. size-1} only (a model whose embedding table is padded past
     * the tokenizer's vocabulary must not produce ids the tokenizer cannot decode).
     */
    public int next(float[] logits, int size) {
        if (size < 1 || size > logits.length) {
            throw new IllegalArgumentException("size must be in [1, " + logits.length + "], got " + size);
        }
        int v = size;
        double[] x = new double[v]; // [V]
        for (int i = 0; i < v; i++) {
            x[i] = logits[i];
        }
        double penalty = config.repetitionPenalty();
        if (penalty != 1.0) {
            for (int i = seen.nextSetBit(0); i >= 0 && i < v; i = seen.nextSetBit(i + 1)) {
                x[i] = x[i] > 0 ? x[i] / penalty : x[i] * penalty;
            }
        }
        int chosen = config.isGreedy() ? argmax(x) : draw(x);
        seen.set(chosen);
        return chosen;
    }

    /** Index of the largest value; the first one on ties. NaN is never chosen over a number. */
    public static int argmax(double[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best] || Double.isNaN(x[best]) && !Double.isNaN(x[i])) {
                best = i;
            }
        }
        return best;
    }

    /** Index of the largest value of float logits; the first one on ties. */
    public static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            if (x[i] > x[best] || Float.isNaN(x[best]) && !Float.isNaN(x[i])) {
                best = i;
            }
        }
        return best;
    }

    /** One draw from the softmax of all (already temperature-scaled) logits, in id order: no sort needed. */
    private int drawFromAll(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double[] p = new double[x.length]; // [V] unnormalised probabilities
        double total = 0;
        for (int i = 0; i < x.length; i++) {
            p[i] = Math.exp(x[i] - max);
            total += p[i];
        }
        double u = random.nextDouble() * total;
        double acc = 0;
        int last = 0;
        for (int i = 0; i < x.length; i++) {
            if (p[i] > 0) {
                acc += p[i];
                last = i;
                if (u < acc) {
                    return i;
                }
            }
        }
        return last;
    }

    private int draw(double[] x) {
        int v = x.length;
        double t = config.temperature();
        for (int i = 0; i < v; i++) {
            x[i] /= t;
        }
        if (config.topK() == 0 && config.topP() >= 1.0) {
            return drawFromAll(x);
        }
        // Candidates in decreasing logit order (stable on ties), restricted by top-k.
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(x[b], x[a]));
        int keep = config.topK() > 0 ? Math.min(config.topK(), v) : v;
        double max = x[order[0]];
        double[] p = new double[keep]; // [keep] probabilities in candidate order
        double sum = 0;
        for (int j = 0; j < keep; j++) {
            p[j] = Math.exp(x[order[j]] - max);
            sum += p[j];
        }
        for (int j = 0; j < keep; j++) {
            p[j] /= sum;
        }
        if (config.topP() < 1.0) {
            double cumulative = 0;
            int cut = keep;
            for (int j = 0; j < keep; j++) {
                cumulative += p[j];
                if (cumulative >= config.topP()) {
                    cut = j + 1;
                    break;
                }
            }
            keep = cut;
        }
        double total = 0;
        for (int j = 0; j < keep; j++) {
            total += p[j];
        }
        double u = random.nextDouble() * total;
        double acc = 0;
        for (int j = 0; j < keep; j++) {
            acc += p[j];
            if (u < acc) {
                return order[j];
            }
        }
        return order[keep - 1];
    }
}
