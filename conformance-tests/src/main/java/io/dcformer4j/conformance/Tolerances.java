package io.dcformer4j.conformance;

/**
 * Every tolerance of the kit, in one place, each with the reason for its numbers. u = 2⁻²⁴ ≈ 6e-8 is the
 * float32 unit roundoff; the oracle is float64, so its own error is negligible.
 *
 * <p>Per dtype: BF16 and F16 are storage formats only. Storing must round to nearest even and widening is
 * exact ({@link #EXACT}); the oracle computes with the exactly decoded 16-bit weights, so an operation on
 * BF16/F16 weights gets the same allowance as on F32 weights — a backend that loses more than float32
 * arithmetic does (for example by rounding activations to 16 bits) fails.
 */
public final class Tolerances {
    private Tolerances() {
    }

    /** Storage round trips, lookups, views and copies move values; nothing is computed, so nothing may change. */
    public static final Tolerance EXACT = new Tolerance(0, 0,
            "storage, lookups, views and copies only move (or round-to-nearest-even) values: bit-exact");

    /** Element-wise add: one float32 rounding. */
    public static final Tolerance ADD = new Tolerance(0, 1.2e-7,
            "a + b is one float32 rounding: |error| <= u·|result|, u = 6e-8, with a factor 2 for safety");

    /**
     * silu ⊙ up: exp, a division and two products, each within an ulp or two. A backend using a fast exp
     * with a few ulps of error still passes; a wrong formula (for example sigmoid without the product) does
     * not.
     */
    public static final Tolerance SWIGLU = new Tolerance(1e-12, 2e-6,
            "exp, one division and two products in float32, a few ulps each (vector exp approximations included): 2e-6 relative");

    /**
     * Exact GELU. The scale is |x| (see the test): an erf with an absolute error up to ~1e-6 (a good float
     * approximation) passes, the tanh approximation (error up to 4.7e-4, spec §7) fails.
     */
    public static final Tolerance GELU = new Tolerance(1e-12, 2e-6,
            "x·Φ(x): float32 erf approximations err by ~1e-7 absolute in Φ, so 2e-6·|x| (the tanh form errs by 4.7e-4)");

    /**
     * Softmax rows: exp per element, a sum over up to 1000 positive terms, a division. The sum sets the
     * allowance, and it is not a random walk: a plain sequential float32 sum drops the low bits of every term
     * below half an ulp of the running sum, all in the same direction, so when one logit dominates (N(0, 3²)
     * inputs) its error has a long tail. Measured over 10⁶ such rows of 1000: p99.99 3.5e-6, worst 5.4e-6;
     * the worst case of any order is (n − 1)·u = 6e-5. 1.5e-5 admits the plain sum with a margin of ~3 over
     * that tail and still fails a 16-bit exp (4e-3) or a wrong formula.
     */
    public static final Tolerance SOFTMAX = new Tolerance(1e-9, 1.5e-5,
            "exp (~2 ulps) plus a float32 sum of up to 1000 positive terms, whose dropped low bits all err one way"
                    + " (sequential sum over 10^6 rows of N(0, 9) logits: worst 5.4e-6; any order at worst (n-1)u = 6e-5): 1.5e-5 relative");

    /**
     * Softmax rows of model width, up to 6912 terms in the sum (see {@link #SOFTMAX}): a sequential float32
     * sum over 2·10⁵ rows of N(0, 3²) logits erred by p99.99 2.4e-5, worst 3.2e-5; any order at worst
     * (n − 1)·u = 4.1e-4. 1e-4 keeps a margin of ~3 over the tail.
     */
    public static final Tolerance SOFTMAX_LONG = new Tolerance(1e-9, 1e-4,
            "exp (~2 ulps) plus a float32 sum of up to 6912 positive terms, whose dropped low bits all err one way"
                    + " (sequential sum over 2*10^5 rows of N(0, 9) logits: worst 3.2e-5; any order at worst (n-1)u = 4.1e-4): 1e-4 relative");

    /** mgate = softmax over Mg gates times u. */
    public static final Tolerance MGATE = new Tolerance(1e-9, 4e-6,
            "softmax over the gate logits (see SOFTMAX) times one product: 4e-6 relative");

    /**
     * Linear, judged against Σ|x·w| + |bias| rather than |result|: float32 accumulation of K products errs by
     * about sqrt(K)·u·Σ|terms| in practice (K·u in the worst case for a plain sequential sum, 6e-5 at
     * K = 1000). 1e-5 admits any sane summation order for K ≤ 1000, and is still 100× smaller than the error
     * of one bf16 rounding (2⁻⁹ ≈ 2e-3 per weight).
     */
    public static final Tolerance LINEAR = new Tolerance(1e-7, 1e-5,
            "float32 accumulation of up to 1000 products: ~sqrt(K)·u·Σ|x·w| typical, 1e-5·Σ|x·w| allowed (one bf16 rounding would be 2e-3)");

    /**
     * Linear of tiny inputs (1e-3 and 1e-20 scale) judged relative to Σ|x·w| with no absolute floor: the
     * floor of {@link #LINEAR} would accept any result of that size, including zero or a wrong row.
     */
    public static final Tolerance LINEAR_RELATIVE = new Tolerance(0, 1e-5,
            "as LINEAR (1e-5·Σ|x·w|) without the 1e-7 absolute floor, which would hide every error of outputs ~1e-20");

    /** {@code linears} against {@code linear} of each weight alone on the same backend. */
    public static final Tolerance SAME_AS_LINEAR = new Tolerance(0, 0,
            "linears promises every projection the very floats linear gives it alone: bit-exact");

    /** RMSNorm: a sum of squares (no cancellation), a sqrt and a product per element. */
    public static final Tolerance RMS_NORM = new Tolerance(1e-7, 2e-5,
            "sum of up to 1000 squares in float32 (positive terms: relative error <= K·u worst case, ~sqrt(K)·u typical), sqrt halves it: 2e-5");

    /**
     * RMSNorm of degenerate rows (1e-3, 1e-20 and subnormal scale, zeros) without an absolute floor: their
     * outputs are ~1e-17 down to ~1e-36, which the 1e-7 floor of {@link #RMS_NORM} would accept whatever they
     * were (zero from a flushed subnormal, or eps added in the wrong place).
     */
    public static final Tolerance RMS_NORM_RELATIVE = new Tolerance(Float.MIN_VALUE, 2e-5,
            "as RMS_NORM (2e-5 relative) without its 1e-7 absolute floor, which would hide every error of outputs far below 1e-7;"
                    + " plus one step of the subnormal grid (1.4e-45), the spacing of float32 below 1.2e-38, which no float"
                    + " result can beat there");

    /**
     * LayerNorm, judged against |g|·(|x| + |μ|)/σ + |b|: x − μ cancels, so the float32 roundings of the mean
     * (a sum of up to 1000 elements) and of x set an absolute error of about sqrt(E)·u·(|x| + |μ|)/σ.
     */
    public static final Tolerance LAYER_NORM = new Tolerance(1e-6, 2e-5,
            "mean and population variance summed in float32 over up to 1000 elements; x − μ cancels, so 2e-5 relative to |g|·(|x| + |μ|)/σ + |b|");

    /**
     * RoPE: one float32 angle (bit-identical with the oracle's, spec §1.4), cos/sin, two products and a sum,
     * judged against |a| + |b| of the pair.
     */
    public static final Tolerance ROPE = new Tolerance(1e-7, 1e-6,
            "cos/sin of the same float32 angle (a few ulps) and a 2-term rotation: 1e-6·(|a| + |b|)");

    /**
     * Dynamic weights: two chained float32 dot products (E then K terms, ≤ 64 each), exact GELU, an RMS over
     * N heads and tanh; outputs are O(1).
     */
    public static final Tolerance DYNAMIC_WEIGHTS = new Tolerance(2e-5, 2e-5,
            "two chained float32 dot products of <= 64 terms, erf, an RMS over heads and tanh, outputs O(1): 2e-5");

    /**
     * Fused attention against the unfused oracle: a dot product over D, two composes over N heads, a
     * softmax over up to 512 keys and a value sum; the fused form reorders all of these sums. Outputs O(1).
     */
    public static final Tolerance ATTENTION = new Tolerance(2e-5, 2e-5,
            "q·k over D, two composes over N heads, softmax and value sums over up to 512 keys, all reordered by fusion; outputs O(1): 2e-5");

    /**
     * Attention over up to a few thousand keys (long contexts): the softmax sum and the value sums grow to
     * ~2100 terms, so float32 reassociation errs by ~sqrt(S)·u relative (~3e-6); outputs O(1).
     */
    public static final Tolerance ATTENTION_LONG = new Tolerance(3e-5, 3e-5,
            "as ATTENTION, with softmax and value sums over up to 2120 keys (~sqrt(S)·u ≈ 3e-6 typical, blocked and split sums): 3e-5");

    /**
     * Attention with logits near 1e4. Float32 has a spacing of ~1e-3 there, and a logit takes several roundings
     * (a dot product over D, then the composes over N heads), so composed logits err by up to ~1e-2. At a near tie
     * between two keys a probability moves by a quarter of that and the output by that times the difference of
     * the two values (up to ~8 for N(0, 1) values). Measured on the naive and CPU backends over 600 and 150 seeds
     * of the kit's three large-logit cases: 0.8–0.9 % of the cases (2–3 % of kit runs) erred by more than 2e-3, none
     * by 1e-2. Any overflow still shows as NaN or infinity.
     */
    public static final Tolerance ATTENTION_LARGE_LOGITS = new Tolerance(3e-2, 2e-3,
            "composed logits ~1e4 err by up to ~1e-2 in float32 (spacing 1e-3, several roundings); at a near tie the output"
                    + " moves by a quarter of that times the gap between two values (measured worst under 1e-2 over 750 seeds):"
                    + " 3e-2 absolute; overflow gives NaN/inf and fails regardless");

    /**
     * Dynamic weights at released model shapes (E up to 4096, 4K = 512): the first dot product sums E terms,
     * so the float32 error of the hidden layer grows to ~sqrt(E)·u·Σ|a·w| before GELU, the second sum and tanh.
     */
    public static final Tolerance DYNAMIC_WEIGHTS_MODEL_SCALE = new Tolerance(1e-4, 1e-4,
            "two chained float32 dot products of up to 4096 and 512 terms (~sqrt(E)·u·Σ|terms| each), erf, an RMS over 32 heads and tanh, outputs O(1): 1e-4");

    /** A call made concurrently with others on the same backend against the same call made alone. */
    public static final Tolerance CONCURRENT = new Tolerance(1e-5, 1e-5,
            "a call running beside other threads' calls may only be split differently over the workers (float32 reassociation): 1e-5");

    /** Results with 1 and N workers: the same sums in a possibly different order. */
    public static final Tolerance WORKERS = new Tolerance(1e-5, 1e-5,
            "1 and 2 workers may split and order sums differently (float32 reassociation), nothing more: 1e-5");

    /** Decode after prefill against one prefill: both fused paths of the backend, reassociated sums. */
    public static final Tolerance DECODE_VS_PREFILL = new Tolerance(2e-5, 2e-5,
            "decode and prefill are two fused evaluations of the same sums in different orders (spec §4.5): 2e-5");

    /** Golden logits of the official reference (tiny model, F32): relative L2 error bound. */
    public static final double GOLDEN_REL_L2 = 1e-5;
    /** Golden logits: max absolute error bound. */
    public static final double GOLDEN_MAX_ABS = 1e-4;
    /** Why the golden bounds are what they are. */
    public static final String GOLDEN_REASON = "the official decode agrees with its own prefill to 6e-6 and an independent float64 "
            + "implementation agrees to < 1e-5 (golden README); logits have a standard deviation of ~2";
}
