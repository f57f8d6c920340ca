package io.dcformer4j.tokenizer;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code ByteLevel} pre-tokenizer: optionally adds a leading space, optionally cuts with the GPT-2 regex,
 * then rewrites every piece as its UTF-8 bytes in {@link ByteLevel} characters, the alphabet of byte-level
 * BPE vocabularies.
 */
final class ByteLevelPreTokenizer implements PreTokenizer {
    /** The GPT-2 pre-tokenization pattern (contractions, letters, digits, other symbols, whitespace runs). */
    static final Pattern GPT2 = RegexTranslator.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final boolean addPrefixSpace;
    private final boolean useRegex;

    ByteLevelPreTokenizer(boolean addPrefixSpace, boolean useRegex) {
        this.addPrefixSpace = addPrefixSpace;
        this.useRegex = useRegex;
    }

    @Override
    public void split(String piece, List<String> out) {
        String text = addPrefixSpace && !piece.startsWith(" ") ? " " + piece : piece;
        if (!useRegex) {
            if (!text.isEmpty()) {
                out.add(ByteLevel.encode(text));
            }
            return;
        }
        Matcher m = GPT2.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                out.add(ByteLevel.encode(text.substring(last, m.start())));
            }
            if (m.end() > m.start()) {
                out.add(ByteLevel.encode(text.substring(m.start(), m.end())));
            }
            last = m.end();
        }
        if (last < text.length()) {
            out.add(ByteLevel.encode(text.substring(last)));
        }
    }
}
