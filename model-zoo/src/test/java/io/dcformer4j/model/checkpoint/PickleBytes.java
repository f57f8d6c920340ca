package io.dcformer4j.model.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Writes pickle opcodes by hand, to make hostile or unusual pickles in tests. */
final class PickleBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleBytes op(int opcode) {
        out.write(opcode);
        return this;
    }

    PickleBytes proto() {
        return op(0x80).op(2);
    }

    PickleBytes global(String module, String name) {
        op('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    PickleBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        int n = b.length;
        out.writeBytes(new byte[] {(byte) n, (byte) (n >> 8), (byte) (n >> 16), (byte) (n >> 24)});
        out.writeBytes(b);
        return this;
    }

    PickleBytes integer(int v) {
        op('J');
        out.writeBytes(new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)});
        return this;
    }

    PickleBytes mark() {
        return op('(');
    }

    PickleBytes tuple() {
        return op('t');
    }

    /** {@code OrderedDict()} on the stack. */
    PickleBytes orderedDict() {
        return global("collections", "OrderedDict").op(')').op('R');
    }

    /**
     * {@code _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())} on the stack.
     */
    PickleBytes tensor(String storageClass, String key, int numel, int offset, int[] size, int[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", storageClass).str(key).str("cpu").integer(numel).tuple().op('Q');
        integer(offset);
        mark();
        for (int s : size) {
            integer(s);
        }
        tuple().mark();
        for (int s : stride) {
            integer(s);
        }
        tuple().op(0x89).orderedDict().tuple().op('R');
        return this;
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
