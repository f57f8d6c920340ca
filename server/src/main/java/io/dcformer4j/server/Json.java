package io.dcformer4j.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * The server's JSON reader and writer. Reading is bounded (nesting depth, string and number length, and the
 * document as a whole) so that a hostile body cannot make the parser work or allocate without limit.
 */
final class Json {
    /** Deepest nesting a request may use (chat content parts need 4). */
    static final int MAX_DEPTH = 16;
    /** Longest single string in a request. */
    static final int MAX_STRING = 1 << 20;
    /** Longest number literal. */
    static final int MAX_NUMBER = 64;

    private final ObjectMapper reader;
    private final ObjectMapper writer = new ObjectMapper();

    Json(long maxDocumentBytes) {
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxStringLength(MAX_STRING)
                        .maxNumberLength(MAX_NUMBER)
                        .maxDocumentLength(maxDocumentBytes)
                        .build())
                .build();
        reader = new ObjectMapper(factory);
    }

    /** Parses a request body that must be one JSON object. */
    ObjectNode readObject(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("The request body is empty: send a JSON object");
        }
        JsonNode node;
        try {
            node = reader.readTree(body);
        } catch (StreamConstraintsException e) {
            throw ApiException.badRequest("The request body exceeds a JSON limit: " + e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("The request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("The request body could not be read: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("The request body must be a JSON object");
        }
        return (ObjectNode) node;
    }

    /** A new empty object node. */
    ObjectNode object() {
        return writer.createObjectNode();
    }

    /** Serialises a node. */
    String write(JsonNode node) {
        try {
            return writer.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }
}
