package io.dcformer4j.backend.cuda;

/** One device allocation, shared by a tensor and its views; freed once. */
final class DeviceBuffer {
    final long address;
    final long bytes;
    private boolean freed;

    DeviceBuffer(long address, long bytes) {
        this.address = address;
        this.bytes = bytes;
    }

    boolean isFreed() {
        return freed;
    }

    void markFreed() {
        freed = true;
    }
}
