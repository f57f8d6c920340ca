package io.dcformer4j.backend.cuda.launch;

import java.util.List;

/**
 * One kernel launch, fully described without any driver types: what runs, the geometry, the dynamic
 * shared memory and the argument values, checked against the kernel's declared parameters.
 *
 * @param kernel      the kernel
 * @param grid        grid extent in blocks
 * @param block       block extent in threads
 * @param sharedBytes dynamic shared memory per block
 * @param args        argument values in parameter order
 */
public record Launch(KernelSpec kernel, Dim3 grid, Dim3 block, int sharedBytes, List<KernelArg> args) {
    /** Largest block the hardware accepts. */
    public static final int MAX_THREADS_PER_BLOCK = 1024;
    /** Largest grid y/z extent. */
    public static final int MAX_GRID_YZ = 65535;

    /** Validates geometry and argument types against the kernel signature. */
    public Launch {
        args = List.copyOf(args);
        if (args.size() != kernel.params().size()) {
            throw new IllegalArgumentException("kernel " + kernel.name() + " takes " + kernel.params().size()
                    + " arguments, got " + args.size());
        }
        for (int i = 0; i < args.size(); i++) {
            Param p = kernel.params().get(i);
            if (args.get(i).type() != p.type()) {
                throw new IllegalArgumentException("kernel " + kernel.name() + " argument " + i + " (" + p.name()
                        + ") must be " + p.type() + ", got " + args.get(i).type());
            }
        }
        if (block.volume() > MAX_THREADS_PER_BLOCK) {
            throw new IllegalArgumentException("kernel " + kernel.name() + ": block of " + block.volume()
                    + " threads exceeds " + MAX_THREADS_PER_BLOCK);
        }
        if (grid.y() > MAX_GRID_YZ || grid.z() > MAX_GRID_YZ) {
            throw new IllegalArgumentException("kernel " + kernel.name() + ": grid " + grid + " exceeds " + MAX_GRID_YZ
                    + " in y or z");
        }
        if (sharedBytes < 0) {
            throw new IllegalArgumentException("kernel " + kernel.name() + ": negative shared memory " + sharedBytes);
        }
    }

    /** The value passed for the parameter called {@code name} (launch logs and tests read arguments by name). */
    public KernelArg arg(String name) {
        List<Param> params = kernel.params();
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).name().equals(name)) {
                return args.get(i);
            }
        }
        throw new IllegalArgumentException("kernel " + kernel.name() + " has no parameter '" + name + "'");
    }
}
