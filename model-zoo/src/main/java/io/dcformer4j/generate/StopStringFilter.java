package io.dcformer4j.generate;

import java.util.List;

/**
 * Holds back streamed text that might be the beginning of a stop string, and cuts the output where a stop
 * string appears, so a listener never sees any part of a stop string.
 */
final class StopStringFilter {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStringFilter(List<String> stops) {
        this.stops = stops;
    }

    /** Adds text; returns what can be released now. After a stop string is found, {@link #stopped()} is true. */
    String push(String piece) {
        if (stopped) {
            return "";
        }
        held.append(piece);
        if (stops.isEmpty()) {
            String out = held.toString();
            held.setLength(0);
            return out;
        }
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = longestSuffixThatStartsAStop();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Releases held text at the end of generation (it can no longer become a stop string). */
    String finish() {
        if (stopped) {
            return "";
        }
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    boolean stopped() {
        return stopped;
    }

    private int longestSuffixThatStartsAStop() {
        int best = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, held.length()); len > best; len--) {
                if (held.substring(held.length() - len).equals(s.substring(0, len))) {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
