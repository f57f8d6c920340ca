package io.dcformer4j.backend.cuda;

/** One device allocation, shared by a tensor and its views; freed once. */
final class DeviceBuffer {
    final DevicePointer pointer;
    final long bytes;
    private boolean freed;

    DeviceBuffer(DevicePointer pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    boolean isFreed() {
        return freed;
    }

    void markFreed() {
        freed = true;
    }
}
