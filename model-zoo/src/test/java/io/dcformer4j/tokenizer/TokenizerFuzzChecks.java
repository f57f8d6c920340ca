package io.dcformer4j.tokenizer;

/** What the tokenizer fuzz targets assert about encode and decode results. */
final class TokenizerFuzzChecks {
    private TokenizerFuzzChecks() {
    }

    /** Every id an encoding produces is inside the vocabulary and has a token. */
    static void validIds(Tokenizer tok, int[] ids) {
        for (int id : ids) {
            if (id < 0 || id >= tok.vocabSize()) {
                throw new AssertionError("encode produced id " + id + " outside [0, " + tok.vocabSize() + ")");
            }
            tok.token(id);
        }
    }

    /** Streaming the ids one at a time gives the same text as decoding them at once. */
    static void streamingMatchesBatch(Tokenizer tok, int[] ids) {
        for (boolean skip : new boolean[] {false, true}) {
            StreamingDecoder d = tok.newStreamingDecoder(skip);
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(d.push(id));
            }
            streamed.append(d.flush());
            String batch = tok.decode(ids, skip);
            if (!streamed.toString().equals(batch)) {
                throw new AssertionError("streamed decode '" + streamed + "' differs from batch decode '" + batch + "'");
            }
        }
    }

    /** A refused id must be one the vocabulary does not assign, and the message must name it. */
    static void unassigned(Tokenizer tok, int id, IllegalArgumentException e) {
        boolean assigned;
        try {
            tok.token(id);
            assigned = true;
        } catch (IllegalArgumentException notAssigned) {
            assigned = false;
        }
        if (assigned || e.getMessage() == null || !e.getMessage().contains(String.valueOf(id))) {
            throw new AssertionError("decode refused id " + id + " (" + e.getMessage() + ")", e);
        }
    }
}
