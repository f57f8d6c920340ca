package io.dcformer4j.backend.cuda.launch;

import java.util.List;

/**
 * A kernel as declared in {@code src/main/cuda/<module>.cu}: its PTX module, entry name and parameters.
 *
 * @param module the .cu file name without extension (also the PTX resource name)
 * @param name   the {@code extern "C"} entry name
 * @param params the parameters in declaration order
 */
public record KernelSpec(String module, String name, List<Param> params) {
    /** Freezes the parameter list. */
    public KernelSpec {
        params = List.copyOf(params);
    }

    /** A spec from alternating parameter names and types. */
    static KernelSpec of(String module, String name, Object... nameTypePairs) {
        if (nameTypePairs.length % 2 != 0) {
            throw new IllegalArgumentException("kernel " + name + ": parameters must be name/type pairs");
        }
        Param[] ps = new Param[nameTypePairs.length / 2];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = new Param((String) nameTypePairs[2 * i], (ArgType) nameTypePairs[2 * i + 1]);
        }
        return new KernelSpec(module, name, List.of(ps));
    }
}
