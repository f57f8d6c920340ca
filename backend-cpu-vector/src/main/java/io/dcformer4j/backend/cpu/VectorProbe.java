package io.dcformer4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Touches the Vector API in a class of its own, so a missing module surfaces as a catchable LinkageError. */
final class VectorProbe {
    /** System property that sets the vector width in bits (see {@link Vec}). */
    static final String BITS_PROPERTY = "dcformer4j.cpu.vectorBitSize";

    private VectorProbe() {
    }

    /**
     * The float species for a {@value #BITS_PROPERTY} value: the preferred one when {@code bits} is null or
     * blank, otherwise that width.
     *
     * @throws IllegalArgumentException when the width is not 128, 256 or 512, or wider than this CPU's vectors
     */
    static VectorSpecies<Float> species(String bits) {
        VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
        if (bits == null || bits.isBlank()) {
            return preferred;
        }
        int b;
        try {
            b = Integer.parseInt(bits.trim());
        } catch (NumberFormatException e) {
            b = -1;
        }
        if (b != 128 && b != 256 && b != 512 || b > preferred.vectorBitSize()) {
            throw new IllegalArgumentException(BITS_PROPERTY + " must be 128, 256 or 512 and at most this CPU's "
                    + preferred.vectorBitSize() + "-bit vectors, got '" + bits + "'");
        }
        return VectorSpecies.of(float.class, VectorShape.forBitSize(b));
    }

    /** The float species the kernels use, for example "256-bit vectors (8 floats)", and a forced scalar compose. */
    static String describe() {
        var s = FloatVector.SPECIES_PREFERRED;
        var used = Vec.FS;
        return used.vectorBitSize() + "-bit vectors (" + used.length() + " floats"
                + (used.vectorBitSize() < s.vectorBitSize() ? ", narrowed by -D" + Vec.BITS_PROPERTY : "") + ")"
                + (ComposeLoop.scalar() ? ", scalar compose" : "");
    }
}
