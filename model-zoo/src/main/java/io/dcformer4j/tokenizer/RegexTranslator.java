package io.dcformer4j.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles the Oniguruma patterns of {@code tokenizer.json} files with {@code java.util.regex}. The two
 * dialects agree on everything these files use ({@code \p{L}}, {@code \p{N}}, {@code (?i:...)}, look-ahead,
 * possessive quantifiers) once {@code \s}, {@code \w} and {@code \d} are made Unicode-aware as in Oniguruma;
 * Oniguruma's {@code \h} (a hex digit, unlike Java's horizontal space) is rewritten.
 */
final class RegexTranslator {
    private RegexTranslator() {
    }

    static Pattern compile(String oniguruma) {
        String java = translate(oniguruma);
        try {
            return Pattern.compile(java, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("tokenizer regex cannot be compiled: " + oniguruma + " (" + e.getDescription() + ")", e);
        }
    }

    static String translate(String p) {
        StringBuilder sb = new StringBuilder(p.length());
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '\\' && i + 1 < p.length()) {
                char n = p.charAt(i + 1);
                if (n == 'h') {
                    sb.append("[0-9a-fA-F]");
                } else if (n == 'H') {
                    sb.append("[^0-9a-fA-F]");
                } else {
                    sb.append(c).append(n);
                }
                i++;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
