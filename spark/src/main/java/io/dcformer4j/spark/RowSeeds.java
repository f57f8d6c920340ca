package io.dcformer4j.spark;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The sampling seed of one row, derived from the transformer's seed and the row's input text only, never from
 * the partition or the row's position, so a row's output is the same however the data set is partitioned or
 * ordered: the first 8 bytes (big-endian) of SHA-256 over the seed's 8 big-endian bytes followed by the
 * text's UTF-8 bytes. A single-process run reproduces a row with
 * {@code GenerationConfig.builder()...seed(RowSeeds.derive(seed, prompt))}.
 */
public final class RowSeeds {
    private RowSeeds() {
    }

    /** The seed for the row whose input text is {@code text}. */
    public static long derive(long seed, String text) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e); // every Java SE platform must have it
        }
        sha.update(ByteBuffer.allocate(Long.BYTES).putLong(seed).array());
        sha.update(text.getBytes(StandardCharsets.UTF_8));
        return ByteBuffer.wrap(sha.digest()).getLong();
    }
}
