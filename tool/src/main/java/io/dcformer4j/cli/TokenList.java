package io.dcformer4j.cli;

import java.util.regex.Pattern;

/**
 * The one syntax of a token-id list on the command line, shared by {@code tokenize} (its output, and its
 * input with {@code --decode}) and {@code logits --tokens}: ids separated by spaces, commas or both, so the
 * output of one pastes into the other ({@code 3 17 5}, {@code 3,17,5} and {@code 3, 17, 5} are the same list).
 */
final class TokenList {
    private static final Pattern SEPARATOR = Pattern.compile("[\\s,]+");

    private TokenList() {
    }

    /**
     * Parses a list; an empty or blank text is the empty list.
     *
     * @throws IllegalArgumentException naming the item that is not an integer id
     */
    static int[] parse(String text) {
        String s = text.strip();
        if (s.startsWith(",")) {
            s = s.substring(1).strip();
        }
        if (s.isEmpty()) {
            return new int[0];
        }
        String[] parts = SEPARATOR.split(s, -1);
        int n = parts.length > 0 && parts[parts.length - 1].isEmpty() ? parts.length - 1 : parts.length;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + parts[i] + "' (item " + i
                        + ") is not an integer token id (ids are separated by spaces or commas)");
            }
        }
        return ids;
    }

    /** Formats ids the way {@code tokenize} prints them: separated by single spaces. */
    static String format(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(id);
        }
        return sb.toString();
    }
}
