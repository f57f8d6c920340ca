package io.dcformer4j.backend.cuda.launch;

/** One kernel argument value, typed so that a launch can be checked against the kernel's signature. */
public sealed interface KernelArg {

    /** The parameter type this value fills. */
    ArgType type();

    /** A device address (0 is the null pointer). */
    record Ptr(long address) implements KernelArg {
        @Override
        public ArgType type() {
            return ArgType.PTR;
        }
    }

    /** A 32-bit integer. */
    record I32(int value) implements KernelArg {
        @Override
        public ArgType type() {
            return ArgType.I32;
        }
    }

    /** A 32-bit float. */
    record F32(float value) implements KernelArg {
        @Override
        public ArgType type() {
            return ArgType.F32;
        }
    }

    /** A device pointer argument. */
    static KernelArg ptr(long address) {
        return new Ptr(address);
    }

    /** An int argument. */
    static KernelArg i32(int value) {
        return new I32(value);
    }

    /** A float argument. */
    static KernelArg f32(float value) {
        return new F32(value);
    }
}
