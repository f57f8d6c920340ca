package io.dcformer4j.model.checkpoint;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The JSON parser of the checkpoint headers and indexes, with limits that agree with the byte limits the
 * readers state: strings, names and the document may be as long as the header itself (Jackson's own default
 * of 20 million characters per string would refuse a valid header below the 100 MB limit with its own
 * wording), while nesting and number length are capped where no checkpoint comes near them, because those are
 * what make a parser slow or deep. Duplicate keys are refused. Parse errors are worded by {@link JsonErrors}.
 */
final class CheckpointJson {

    /** Nesting levels allowed; a safetensors header needs three, an index two. */
    static final int MAX_NESTING = 64;
    /** Digits in one number; offsets and sizes need at most twenty, and long numbers are slow to convert. */
    static final int MAX_NUMBER_DIGITS = 1000;

    private final ObjectMapper mapper;
    private final String what;
    private final long maxBytes;

    /**
     * @param what     names the document in errors ("safetensors header", "checkpoint index")
     * @param maxBytes the byte limit the caller enforces before parsing
     */
    CheckpointJson(String what, long maxBytes) {
        this.what = what;
        this.maxBytes = maxBytes;
        int maxChars = (int) Math.min(maxBytes, Integer.MAX_VALUE);
        StreamReadConstraints limits = StreamReadConstraints.builder()
                .maxDocumentLength(maxBytes)
                .maxStringLength(maxChars)
                .maxNameLength(maxChars)
                .maxNestingDepth(MAX_NESTING)
                .maxNumberLength(MAX_NUMBER_DIGITS)
                .build();
        this.mapper = new ObjectMapper(JsonFactory.builder()
                .streamReadConstraints(limits)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build());
    }

    /**
     * Parses a whole document.
     *
     * @throws CheckpointException naming the file, starting "bad JSON in ..." for malformed JSON and for JSON
     *                             beyond the limits above
     */
    JsonNode read(Path file, byte[] json) {
        try {
            return mapper.readTree(json);
        } catch (StreamConstraintsException e) {
            throw new CheckpointException(file + ": bad JSON in " + what + ": " + limitBroken(e), e);
        } catch (JacksonException e) {
            throw new CheckpointException(file + ": bad JSON in " + what + ": " + JsonErrors.describe(e), e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot parse " + what + ": " + e, e);
        }
    }

    /** Our wording of the limit Jackson reports (it says which one only in its message). */
    private String limitBroken(StreamConstraintsException e) {
        String m = String.valueOf(e.getOriginalMessage());
        if (m.startsWith("Document nesting depth")) {
            return "nested deeper than " + MAX_NESTING + " levels";
        }
        if (m.startsWith("Number value length")) {
            return "a number longer than " + MAX_NUMBER_DIGITS + " digits";
        }
        return "a string, name or document longer than the " + what + " limit of " + maxBytes + " bytes";
    }
}
