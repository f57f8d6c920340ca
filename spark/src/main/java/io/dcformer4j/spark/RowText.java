package io.dcformer4j.spark;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StringType;

/** Reads the input text of a row: a string column, or a binary column holding UTF-8 (decoded strictly). */
final class RowText {
    private RowText() {
    }

    /** Whether a column of this type can be an input column. */
    static boolean accepts(DataType type) {
        return type instanceof StringType || type instanceof BinaryType;
    }

    /**
     * The text of an input column's value: a string, or UTF-8 bytes.
     *
     * @throws RowFailure when the value is null or its bytes are not valid UTF-8
     */
    static String read(Object v) {
        if (v == null) {
            throw new RowFailure("null input: the input column is null in this row");
        }
        if (v instanceof String s) {
            return s;
        }
        byte[] bytes = (byte[]) v;
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            return decoder.decode(in).toString();
        } catch (CharacterCodingException e) {
            throw new RowFailure("undecodable input: the bytes are not valid UTF-8 (" + e.getMessage()
                    + " near byte " + in.position() + " of " + bytes.length + ")");
        }
    }
}
