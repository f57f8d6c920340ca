package io.dcformer4j.backend.cuda;

import io.dcformer4j.backend.cuda.launch.Launch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A device in host memory that records launches instead of running them (for tests of the host side). */
final class FakeDevice implements Device {
    final TreeMap<Long, byte[]> memory = new TreeMap<>();
    final List<Launch> launches = new ArrayList<>();
    private long next = 0x10000;

    @Override
    public String description() {
        return "fake device";
    }

    @Override
    public void makeCurrent() {
    }

    @Override
    public long allocate(long bytes) {
        long a = next;
        next += (Math.max(1, bytes) + 511) / 256 * 256;
        memory.put(a, new byte[(int) Math.max(1, bytes)]);
        return a;
    }

    @Override
    public void free(long address) {
        if (memory.remove(address) == null) {
            throw new IllegalStateException("double free or wild free at 0x" + Long.toHexString(address));
        }
    }

    private byte[] block(long base) {
        byte[] b = memory.get(base);
        if (b == null) {
            throw new IllegalStateException("no allocation at 0x" + Long.toHexString(base));
        }
        return b;
    }

    @Override
    public void upload(long base, long offset, ByteBuffer data) {
        ByteBuffer d = data.duplicate();
        d.get(block(base), (int) offset, d.remaining());
    }

    @Override
    public void download(long base, long offset, byte[] data) {
        System.arraycopy(block(base), (int) offset, data, 0, data.length);
    }

    @Override
    public void copy(long dstBase, long dstOffset, long srcBase, long srcOffset, long bytes) {
        System.arraycopy(block(srcBase), (int) srcOffset, block(dstBase), (int) dstOffset, (int) bytes);
    }

    @Override
    public void launch(Launch launch, boolean sync) {
        launches.add(launch);
    }

    @Override
    public void synchronize() {
    }

    /** Bytes at an address inside some allocation. */
    byte[] read(long address, int n) {
        Map.Entry<Long, byte[]> e = memory.floorEntry(address);
        byte[] out = new byte[n];
        System.arraycopy(e.getValue(), (int) (address - e.getKey()), out, 0, n);
        return out;
    }

    List<String> kernelNames() {
        return launches.stream().map(l -> l.kernel().name()).toList();
    }
}
