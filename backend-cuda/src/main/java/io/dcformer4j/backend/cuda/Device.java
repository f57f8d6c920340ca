package io.dcformer4j.backend.cuda;

import io.dcformer4j.backend.cuda.launch.Launch;
import java.nio.ByteBuffer;

/**
 * What the backend needs from a GPU: memory by address, copies and kernel launches. {@link CudaContext}
 * implements it with JCuda; tests substitute a host-memory fake to exercise the backend's own logic
 * (validation, storage, accounting, launch sequences) on machines without a GPU.
 */
interface Device {

    /** A one-line description of the device. */
    String description();

    /** Makes the device current on the calling thread. */
    void makeCurrent();

    /** Allocates at least {@code bytes} (minimum 1) of zero-filled memory; returns its address. */
    long allocate(long bytes);

    /** Frees an allocation made by {@link #allocate}. */
    void free(long address);

    /** Copies {@code data} (position to limit) to {@code base + offset}; {@code base} is an allocation. */
    void upload(long base, long offset, ByteBuffer data);

    /** Copies {@code data.length} bytes from {@code base + offset} to the host. */
    void download(long base, long offset, byte[] data);

    /** Device-to-device copy between allocations. */
    void copy(long dstBase, long dstOffset, long srcBase, long srcOffset, long bytes);

    /** Launches a kernel; with {@code sync} waits for it so that its failure is reported with its name. */
    void launch(Launch launch, boolean sync);

    /** Waits for all launched work. */
    void synchronize();
}
