package io.dcformer4j.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost first and longest at a position (the rule of the reference
 * implementation), honouring {@code single_word}, {@code lstrip} and {@code rstrip}.
 */
final class AddedTokenSplitter {

    /** A stretch of text: either plain text ({@code token == null}) or one added token. */
    record Segment(String text, AddedToken token) {
    }

    // First character -> candidates, longest first.
    private final Map<Character, List<AddedToken>> byFirstChar = new HashMap<>();

    AddedTokenSplitter(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            if (!t.content().isEmpty()) {
                byFirstChar.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
            }
        }
        for (List<AddedToken> l : byFirstChar.values()) {
            l.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
        }
    }

    boolean isEmpty() {
        return byFirstChar.isEmpty();
    }

    List<Segment> split(String text) {
        List<Segment> out = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            out.add(new Segment(text, null));
            return out;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            AddedToken match = matchAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            if (match.lstrip()) {
                while (start > plainStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > plainStart) {
                out.add(new Segment(text.substring(plainStart, start), null));
            }
            out.add(new Segment(text.substring(start, end), match));
            plainStart = end;
            i = end;
        }
        if (plainStart < text.length()) {
            out.add(new Segment(text.substring(plainStart), null));
        }
        return out;
    }

    private AddedToken matchAt(String text, int i) {
        List<AddedToken> candidates = byFirstChar.get(text.charAt(i));
        if (candidates == null) {
            return null;
        }
        for (AddedToken t : candidates) {
            String c = t.content();
            if (text.startsWith(c, i) && (!t.singleWord() || isWordBoundary(text, i, i + c.length()))) {
                return t;
            }
        }
        return null;
    }

    private static boolean isWordBoundary(String text, int start, int end) {
        boolean before = start == 0 || !isWordChar(text.codePointBefore(start));
        boolean after = end >= text.length() || !isWordChar(text.codePointAt(end));
        return before && after;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
