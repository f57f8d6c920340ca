package io.dcformer4j.tokenizer;

/**
 * The GPT-2 byte-to-character table: every byte value maps to one printable character so that a byte-level
 * BPE vocabulary can be written as text. Printable Latin-1 bytes map to themselves; the other 68 bytes map,
 * in byte order, to U+0100, U+0101, ... (so a space is {@code Ġ}, a newline {@code Ċ}).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    // Indexed by character; -1 where the character is not the image of a byte.
    private static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (0x100 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The character standing for a byte. */
    static char charOf(int unsignedByte) {
        return BYTE_TO_CHAR[unsignedByte];
    }

    /** The byte a character stands for, or -1 when the character is not in the table. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The UTF-8 bytes of a string, each written as its table character. */
    static String encode(String text) {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        char[] out = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            out[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        return new String(out);
    }
}
