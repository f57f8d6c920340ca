package io.dcformer4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer (BPE model; byte-level BPE of the GPT-2, GPT-NeoX/Pythia and
 * Qwen2 families), in pure Java. Immutable and thread-safe.
 *
 * <p>Encoding: added tokens are found first (raw text for those with {@code normalized: false}, normalized
 * text for the others), the remaining text is normalized, pre-tokenized and each piece encoded with BPE.
 * No special token is added around the text (no BOS/EOS): a {@code <|endoftext|>} written in the text is
 * still recognised as that token, as in the reference implementation.
 *
 * <pre>{@code
 * Tokenizer tok = Tokenizer.load(Path.of("tokenizer.json"));
 * int[] ids = tok.encode("Hello world");
 * String text = tok.decode(ids);
 * }</pre>
 */
public final class Tokenizer {
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final AddedTokenSplitter rawAdded;
    private final AddedTokenSplitter normalizedAdded;
    private final Map<String, Integer> tokenToId;
    private final String[] idToToken;
    private final AddedToken[] addedById;
    private final Decoding decoding;

    /** How token strings become text, from the {@code decoder} field. */
    enum Decoding {
        /** Token characters stand for bytes ({@code ByteLevel} decoder). */
        BYTE_LEVEL,
        /** No decoder: token strings joined with single spaces (reference behaviour). */
        JOIN_WITH_SPACES
    }

    Tokenizer(Normalizer normalizer, PreTokenizer preTokenizer, BpeModel model, List<AddedToken> added,
              Map<String, Integer> tokenToId, String[] idToToken, Decoding decoding) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.tokenToId = Collections.unmodifiableMap(tokenToId);
        this.idToToken = idToToken;
        this.decoding = decoding;
        this.addedById = new AddedToken[idToToken.length];
        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> norm = new ArrayList<>();
        for (AddedToken t : added) {
            addedById[t.id()] = t;
            (t.normalized() ? norm : raw).add(t);
        }
        this.rawAdded = new AddedTokenSplitter(raw);
        this.normalizedAdded = new AddedTokenSplitter(norm);
    }

    /**
     * Reads a {@code tokenizer.json} file.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException naming the file and the field when the content is invalid or uses a
     *                                  component this reader does not implement
     */
    public static Tokenizer load(Path tokenizerJson) throws IOException {
        return TokenizerJsonReader.read(tokenizerJson);
    }

    /** Reads {@code tokenizer.json} content from a stream (not closed); {@code origin} names it in errors. */
    public static Tokenizer load(InputStream json, String origin) throws IOException {
        return TokenizerJsonReader.read(json, origin);
    }

    /** Token ids of a text; no special tokens are added. */
    public int[] encode(String text) {
        IntList out = new IntList(text.length() / 3 + 4);
        for (AddedTokenSplitter.Segment raw : rawAdded.split(text)) {
            if (raw.token() != null) {
                out.add(raw.token().id());
                continue;
            }
            String normalized = normalizer.normalize(raw.text());
            for (AddedTokenSplitter.Segment seg : normalizedAdded.split(normalized)) {
                if (seg.token() != null) {
                    out.add(seg.token().id());
                } else {
                    for (String piece : preTokenizer.apply(seg.text())) {
                        model.encode(piece, out);
                    }
                }
            }
        }
        return out.toArray();
    }

    /** The text of token ids, special tokens included. Malformed UTF-8 becomes U+FFFD. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /** The text of token ids, optionally leaving out special tokens. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        boolean first = true;
        for (int id : ids) {
            if (skipSpecialTokens && isSpecial(id)) {
                continue;
            }
            if (!first && decoding == Decoding.JOIN_WITH_SPACES) {
                bytes.write(' ');
            }
            appendBytes(id, bytes);
            first = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A decoder for streamed ids that never splits a character; special tokens are printed. */
    public StreamingDecoder newStreamingDecoder() {
        return new StreamingDecoder(this, false);
    }

    /** A decoder for streamed ids that never splits a character, optionally skipping special tokens. */
    public StreamingDecoder newStreamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    /** Number of ids (the largest id plus one, added tokens included). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** The id of a token string (vocabulary or added token). */
    public OptionalInt tokenId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The vocabulary string of an id (byte-level characters for BPE tokens, content for added tokens).
     *
     * @throws IllegalArgumentException when the id is outside the vocabulary
     */
    public String token(int id) {
        checkId(id);
        String t = idToToken[id];
        if (t == null) {
            throw new IllegalArgumentException("token id " + id + " is not assigned in this vocabulary");
        }
        return t;
    }

    /**
     * The bytes a token contributes to decoded text (UTF-8, possibly a fragment of a character), for
     * aligning tokens with character positions.
     */
    public byte[] tokenBytes(int id) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        appendBytes(id, out);
        return out.toByteArray();
    }

    /** Whether the id is an added token marked special (end of text, chat markers). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < addedById.length && addedById[id] != null && addedById[id].special();
    }

    /** The added tokens, ordered by id. */
    public List<AddedToken> addedTokens() {
        List<AddedToken> l = new ArrayList<>();
        for (AddedToken t : addedById) {
            if (t != null) {
                l.add(t);
            }
        }
        return l;
    }

    void appendBytes(int id, ByteArrayOutputStream out) {
        String t = token(id);
        if (decoding == Decoding.BYTE_LEVEL) {
            byte[] mapped = new byte[t.length()];
            boolean all = true;
            for (int i = 0; i < t.length() && all; i++) {
                int b = ByteLevel.byteOf(t.charAt(i));
                all = b >= 0;
                mapped[i] = (byte) b;
            }
            // Tokens with characters outside the byte table (added tokens such as whitespace runs) are their
            // own UTF-8 text, as in the reference decoder.
            byte[] raw = all ? mapped : t.getBytes(StandardCharsets.UTF_8);
            out.write(raw, 0, raw.length);
        } else {
            byte[] raw = t.getBytes(StandardCharsets.UTF_8);
            out.write(raw, 0, raw.length);
        }
    }

    boolean joinsWithSpaces() {
        return decoding == Decoding.JOIN_WITH_SPACES;
    }

    private void checkId(int id) {
        if (id < 0 || id >= idToToken.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + idToToken.length + ")");
        }
    }
}
