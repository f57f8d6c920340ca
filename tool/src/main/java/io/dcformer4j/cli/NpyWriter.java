package io.dcformer4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a 2-D float32 array as a NumPy {@code .npy} file (format 1.0, little-endian {@code <f4}, C order). */
final class NpyWriter {
    private NpyWriter() {
    }

    /** Writes {@code rows} (all of one length) to {@code file}, replacing it. */
    static void write(Path file, float[][] rows) throws IOException {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows.length + ", " + cols + "), }";
        // magic (6) + version (2) + header length (2) + dict + padding + '\n' must be a multiple of 64.
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        byte[] header = (dict + " ".repeat(padding) + "\n").getBytes(StandardCharsets.US_ASCII);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
            out.write(header.length & 0xff);
            out.write(header.length >>> 8);
            out.write(header);
            ByteBuffer buf = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float[] row : rows) {
                if (row.length != cols) {
                    throw new IllegalArgumentException("ragged rows: " + row.length + " values, expected " + cols);
                }
                buf.clear();
                buf.asFloatBuffer().put(row);
                out.write(buf.array(), 0, cols * 4);
            }
        }
    }
}
