package io.dcformer4j.api;

/** Which composition the fused attention applies (spec §2.3, §2.4, §3). */
public enum AttentionMode {
    /** Full DCMHA: query-wise and key-wise low-rank terms and gates, pre- and post-softmax. */
    DCMHA,
    /** Query-wise-only DCMHA ({@code query_wise: true}): key-wise terms dropped, no key-side cache. */
    QUERY_WISE,
    /** Plain multi-head attention: compose is the identity, no dynamic weights at all. */
    PLAIN_MHA;

    /** Whether this mode reads the dynamic-weight tensor. */
    public boolean usesDynamicWeights() {
        return this != PLAIN_MHA;
    }

    /** Whether this mode needs the key-side factors (slots 1 and 3) cached per key. */
    public boolean usesKeySide() {
        return this == DCMHA;
    }
}
