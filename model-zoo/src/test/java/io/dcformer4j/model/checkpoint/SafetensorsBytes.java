package io.dcformer4j.model.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, so tests can make broken ones on purpose. */
final class SafetensorsBytes {
    private SafetensorsBytes() {
    }

    /** Header length, header JSON and data, exactly as given. */
    static byte[] of(long headerLength, String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(h).put(data);
        return b.array();
    }

    /** A well-formed length prefix for the header. */
    static byte[] of(String header, byte[] data) {
        return of(header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    static Path write(Path file, String header, byte[] data) throws IOException {
        return Files.write(file, of(header, data));
    }

    /** Little-endian F32 bytes of the values. */
    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
