package io.dcformer4j.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Split} pre-tokenizer: cuts a piece at the matches of a pattern and decides what happens to the
 * matched parts ({@link Behavior}). With {@code invert}, the matches are the kept content and the text
 * between them plays the delimiter's role.
 */
final class SplitPreTokenizer implements PreTokenizer {

    /** What becomes of a delimiter, named as in {@code tokenizer.json}. */
    enum Behavior {
        /** Dropped. */
        REMOVED,
        /** A piece of its own. */
        ISOLATED,
        /** Appended to the piece before it. */
        MERGED_WITH_PREVIOUS,
        /** Prepended to the piece after it. */
        MERGED_WITH_NEXT,
        /** A piece of its own, with adjacent delimiters merged into one. */
        CONTIGUOUS;

        static Behavior parse(String name) {
            return switch (name) {
                case "Removed" -> REMOVED;
                case "Isolated" -> ISOLATED;
                case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
                case "MergedWithNext" -> MERGED_WITH_NEXT;
                case "Contiguous" -> CONTIGUOUS;
                default -> throw new IllegalArgumentException("unknown Split behavior '" + name
                        + "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
            };
        }
    }

    private final Pattern pattern;
    private final Behavior behavior;
    private final boolean invert;

    SplitPreTokenizer(Pattern pattern, Behavior behavior, boolean invert) {
        this.pattern = pattern;
        this.behavior = behavior;
        this.invert = invert;
    }

    @Override
    public void split(String piece, List<String> out) {
        // Segments alternate between delimiter and content; `isDelimiter` tells which is which.
        java.util.ArrayList<String> segs = new java.util.ArrayList<>();
        java.util.ArrayList<Boolean> delim = new java.util.ArrayList<>();
        Matcher m = pattern.matcher(piece);
        int last = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > last) {
                segs.add(piece.substring(last, m.start()));
                delim.add(invert);
            }
            segs.add(piece.substring(m.start(), m.end()));
            delim.add(!invert);
            last = m.end();
        }
        if (last < piece.length()) {
            segs.add(piece.substring(last));
            delim.add(invert);
        }
        emit(segs, delim, out);
    }

    private void emit(List<String> segs, List<Boolean> delim, List<String> result) {
        // Pieces of this input only, so that merging never reaches into pieces of an earlier input.
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        StringBuilder pending = new StringBuilder();
        boolean pendingIsDelimiter = false;
        for (int i = 0; i < segs.size(); i++) {
            String s = segs.get(i);
            boolean d = delim.get(i);
            switch (behavior) {
                case REMOVED -> {
                    if (!d) {
                        out.add(s);
                    }
                }
                case ISOLATED -> out.add(s);
                case MERGED_WITH_PREVIOUS -> {
                    if (d && !out.isEmpty()) {
                        out.set(out.size() - 1, out.get(out.size() - 1) + s);
                    } else {
                        out.add(s);
                    }
                }
                case MERGED_WITH_NEXT -> {
                    if (d) {
                        pending.append(s);
                    } else {
                        out.add(pending + s);
                        pending.setLength(0);
                    }
                }
                case CONTIGUOUS -> {
                    if (d && pendingIsDelimiter) {
                        out.set(out.size() - 1, out.get(out.size() - 1) + s);
                    } else {
                        out.add(s);
                    }
                    pendingIsDelimiter = d;
                }
            }
        }
        if (!pending.isEmpty()) {
            out.add(pending.toString());
        }
        result.addAll(out);
    }
}
