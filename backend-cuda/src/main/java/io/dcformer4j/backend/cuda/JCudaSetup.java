package io.dcformer4j.backend.cuda;

/**
 * What an application needs to run this backend, in the words of the error a missing piece produces: JCuda
 * and its natives on the path, and the JVM options that let JCuda load its JNI library and the driver probe
 * call into {@code libcuda} (the ones the {@code ./dcformer4j} launcher passes).
 */
final class JCudaSetup {
    /** JVM options for an application on the class path. */
    static final String CLASS_PATH_OPTIONS = "--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED";
    /** JVM options for an application on the module path (JCuda is the automatic module {@code jcuda}). */
    static final String MODULE_PATH_OPTIONS =
            "--add-modules jdk.incubator.vector --enable-native-access=io.dcformer4j.backend.cuda,jcuda";
    /** The sentence appended to an open failure caused by a class or native library that did not load. */
    static final String HINT = "the cuda backend needs org.jcuda:jcuda and org.jcuda:jcuda-natives (same version, "
            + "classifier linux-x86_64) at run time and the JVM options " + CLASS_PATH_OPTIONS
            + " (on the module path: " + MODULE_PATH_OPTIONS + ")";

    private JCudaSetup() {
    }
}
