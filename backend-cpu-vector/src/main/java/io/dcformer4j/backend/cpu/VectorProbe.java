package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;

/** Touches the Vector API in a class of its own, so a missing module surfaces as a catchable LinkageError. */
final class VectorProbe {
    private VectorProbe() {
    }

    /** The preferred float species, for example "256-bit vectors (8 floats)". */
    static String describe() {
        var s = FloatVector.SPECIES_PREFERRED;
        return s.vectorBitSize() + "-bit vectors (" + s.length() + " floats)";
    }
}
