package io.dcformer4j.backend.cuda;

import jcuda.driver.CUdeviceptr;

/** A JCuda device pointer that can report its numeric address (kernel arguments are passed as addresses). */
final class DevicePointer extends CUdeviceptr {
    /** The device address this pointer holds. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
