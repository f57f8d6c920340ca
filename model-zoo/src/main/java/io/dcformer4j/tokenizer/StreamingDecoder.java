package io.dcformer4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of token ids into text pieces without ever cutting a character in half: bytes of an
 * incomplete UTF-8 sequence at the end are held back until the token that completes them arrives.
 * Malformed bytes become U+FFFD, as in {@link Tokenizer#decode}. One instance per stream; not thread-safe.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecial;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private boolean first = true;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecial) {
        this.tokenizer = tokenizer;
        this.skipSpecial = skipSpecial;
    }

    /** Adds one token; returns the text that is now complete (possibly empty). */
    public String push(int id) {
        if (skipSpecial && tokenizer.isSpecial(id)) {
            return "";
        }
        if (!first && tokenizer.joinsWithSpaces()) {
            pending.write(' ');
        }
        tokenizer.appendBytes(id, pending);
        first = false;
        byte[] bytes = pending.toByteArray();
        int complete = completePrefixLength(bytes);
        pending.reset();
        pending.write(bytes, complete, bytes.length - complete);
        return new String(bytes, 0, complete, StandardCharsets.UTF_8);
    }

    /** Returns whatever is held back (an incomplete sequence decodes to U+FFFD) and empties the buffer. */
    public String flush() {
        String s = pending.toString(StandardCharsets.UTF_8);
        pending.reset();
        return s;
    }

    /**
     * Length of the longest prefix that does not end inside a UTF-8 sequence which could still be completed.
     * A trailing lead byte followed by fewer continuation bytes than it announces is held back; anything
     * else (including malformed bytes) is released.
     */
    static int completePrefixLength(byte[] b) {
        int n = b.length;
        // A sequence is at most 4 bytes: look at most 3 bytes back for its lead byte.
        for (int back = 1; back <= Math.min(3, n); back++) {
            int v = b[n - back] & 0xFF;
            if ((v & 0xC0) == 0x80) {
                continue;
            }
            int need = v >= 0xF0 && v <= 0xF4 ? 4 : v >= 0xE0 && v <= 0xEF ? 3 : v >= 0xC2 && v <= 0xDF ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }
}
