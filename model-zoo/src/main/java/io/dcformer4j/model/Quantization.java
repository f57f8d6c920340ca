package io.dcformer4j.model;

import io.dcformer4j.api.DType;
import io.dcformer4j.api.Q8_0Format;
import io.dcformer4j.api.Shape;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How a model's projection weights are stored once loaded: as the checkpoint has them, or quantized in memory
 * to {@link DType#Q8_0} at load (by the reference quantizer {@link io.dcformer4j.api.Q8_0Format}).
 *
 * <p>What Q8_0 covers, and why: the layers' projections, which {@code linear} reads on every token and which
 * hold nearly all of the bytes — {@code wqkv} (or {@code wq}/{@code wk}/{@code wv}), {@code wo}, the
 * feed-forward {@code w1}, {@code w2}, {@code w3} — each only when its input width is a multiple of 32 (the
 * block). Everything else stays in the checkpoint's 16 or 32 bits: norms and biases (a few thousand values,
 * applied element by element, where a per-block scale buys nothing), the DCMHA compose weights ({@code dw1},
 * {@code qkw}, {@code dd}, the static pre/post weights: under 2 % of the bytes, and they produce the per-token
 * attention mixing whose error would reach every head), the {@code mg} gate, the embedding table (read one row
 * per token, so its size costs memory, not time), and the output head: its error lands on the logits
 * directly, and quantizing it too cut the demo DCFormer's greedy agreement from 99.85 % to 97.36 % (2,048
 * tokens; docs/performance.md), for about 5 % of a 2.8B model's bytes. A checkpoint already in Q8_0 (written
 * by {@code convert --quantize q8_0}) loads as it is, whatever this option says.
 */
public enum Quantization {
    /** Weights as stored in the checkpoint. */
    NONE,
    /** Projection weights quantized to Q8_0 at load. */
    Q8_0;

    private static final Pattern PROJECTION = Pattern.compile(
            "layers\\.\\d+\\.(attention\\.(wqkv|wq|wk|wv|wo)|feed_forward\\.(w1|w2|w3))\\.weight");

    /**
     * The quantization named {@code none} or {@code q8_0} (any case).
     *
     * @throws IllegalArgumentException naming the value and the choices
     */
    public static Quantization parse(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        return switch (n) {
            case "none" -> NONE;
            case "q8_0" -> Q8_0;
            default -> throw new IllegalArgumentException("unknown quantization '" + name + "' (choices: none, q8_0)");
        };
    }

    /**
     * Whether the tensor {@code name} (a canonical checkpoint name) of shape {@code shape} is quantized by
     * {@link #Q8_0}: a projection named in the class comment, a matrix whose input width (last axis) is a
     * multiple of {@value Q8_0Format#BLOCK}.
     */
    public static boolean isQuantizable(String name, Shape shape) {
        return PROJECTION.matcher(name).matches() && shape.rank() == 2 && shape.dim(1) % Q8_0Format.BLOCK == 0;
    }

    /** The name {@link #parse} reads ({@code none}, {@code q8_0}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
