package io.dcformer4j.model.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Rewrites a small zip archive (no archive comment) into its ZIP64 form: every central directory entry gets
 * 0xFFFFFFFF sizes and offset with the real values in a ZIP64 extra field, and the end record points to a
 * ZIP64 end record. That is the shape of PyTorch archives over 4 GiB, made small enough for a test.
 */
final class Zip64Bytes {
    private Zip64Bytes() {
    }

    static byte[] rewrite(byte[] zip) {
        ByteBuffer in = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = zip.length - 22;
        if (in.getInt(eocd) != 0x06054b50) {
            throw new IllegalArgumentException("archive has a comment or is not a zip");
        }
        int count = Short.toUnsignedInt(in.getShort(eocd + 10));
        int cdOffset = in.getInt(eocd + 16);
        ByteArrayOutputStream cd = new ByteArrayOutputStream();
        int p = cdOffset;
        for (int i = 0; i < count; i++) {
            int nameLen = Short.toUnsignedInt(in.getShort(p + 28));
            int extraLen = Short.toUnsignedInt(in.getShort(p + 30));
            int commentLen = Short.toUnsignedInt(in.getShort(p + 32));
            long csize = Integer.toUnsignedLong(in.getInt(p + 20));
            long usize = Integer.toUnsignedLong(in.getInt(p + 24));
            long local = Integer.toUnsignedLong(in.getInt(p + 42));
            ByteBuffer head = ByteBuffer.wrap(Arrays.copyOfRange(zip, p, p + 46)).order(ByteOrder.LITTLE_ENDIAN);
            head.putInt(20, -1).putInt(24, -1).putInt(42, -1).putShort(30, (short) (extraLen + 28)).putShort(32, (short) 0);
            cd.writeBytes(head.array());
            cd.writeBytes(Arrays.copyOfRange(zip, p + 46, p + 46 + nameLen + extraLen));
            ByteBuffer z64 = ByteBuffer.allocate(28).order(ByteOrder.LITTLE_ENDIAN);
            z64.putShort((short) 1).putShort((short) 24).putLong(usize).putLong(csize).putLong(local);
            cd.writeBytes(z64.array());
            p += 46 + nameLen + extraLen + commentLen;
        }
        byte[] dir = cd.toByteArray();
        long z64Offset = (long) cdOffset + dir.length;
        ByteBuffer tail = ByteBuffer.allocate(56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
        tail.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                .putLong(count).putLong(count).putLong(dir.length).putLong(cdOffset);
        tail.putInt(0x07064b50).putInt(0).putLong(z64Offset).putInt(1);
        tail.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1).putShort((short) -1)
                .putInt(-1).putInt(-1).putShort((short) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(zip, 0, cdOffset);
        out.writeBytes(dir);
        out.writeBytes(tail.array());
        return out.toByteArray();
    }
}
