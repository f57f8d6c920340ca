package io.dcformer4j.tokenizer;

import java.text.Normalizer.Form;
import java.util.List;
import java.util.Locale;

/** A text normalizer of a {@code tokenizer.json} ({@code normalizer} field), applied before pre-tokenization. */
@FunctionalInterface
interface Normalizer {
    /** Leaves text unchanged. */
    Normalizer IDENTITY = s -> s;

    String normalize(String text);

    /** One of the Unicode normal forms. */
    static Normalizer unicode(Form form) {
        return s -> java.text.Normalizer.normalize(s, form);
    }

    /** Lower-cases (locale-independent). */
    static Normalizer lowercase() {
        return s -> s.toLowerCase(Locale.ROOT);
    }

    /** Replaces every occurrence of a literal string. */
    static Normalizer replace(String target, String replacement) {
        return s -> s.replace(target, replacement);
    }

    /** Prepends a string to non-empty text. */
    static Normalizer prepend(String prefix) {
        return s -> s.isEmpty() ? s : prefix + s;
    }

    /** Applies normalizers in order. */
    static Normalizer sequence(List<Normalizer> steps) {
        List<Normalizer> copy = List.copyOf(steps);
        return s -> {
            String r = s;
            for (Normalizer n : copy) {
                r = n.normalize(r);
            }
            return r;
        };
    }
}
