package io.dcformer4j.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * A pre-tokenizer of a {@code tokenizer.json} ({@code pre_tokenizer} field): cuts normalized text into the
 * pieces ("words") that BPE then encodes independently, possibly rewriting them (byte-level mapping).
 */
interface PreTokenizer {

    /** Appends the pieces of one input piece to {@code out}. */
    void split(String piece, List<String> out);

    /** Cuts a whole text, starting from one piece. */
    default List<String> apply(String text) {
        List<String> out = new ArrayList<>();
        split(text, out);
        return out;
    }

    /** Keeps the text as one piece. */
    PreTokenizer NONE = (piece, out) -> out.add(piece);

    /** Applies pre-tokenizers in order, each to every piece the previous one produced. */
    static PreTokenizer sequence(List<PreTokenizer> steps) {
        List<PreTokenizer> copy = List.copyOf(steps);
        return (piece, out) -> {
            List<String> current = new ArrayList<>();
            current.add(piece);
            for (PreTokenizer step : copy) {
                List<String> next = new ArrayList<>();
                for (String p : current) {
                    step.split(p, next);
                }
                current = next;
            }
            out.addAll(current);
        };
    }
}
