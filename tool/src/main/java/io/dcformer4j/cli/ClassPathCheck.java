package io.dcformer4j.cli;

import java.io.PrintWriter;
import java.net.URL;
import java.security.CodeSource;
import java.util.List;

/**
 * The hidden diagnostic of {@code backends --load-class/--find-resource}: whether classes and resources a
 * backend needs at run time (JCuda's classes, its JNI library) are on this JVM's class path, and from where.
 * It proves the packaging without a GPU: a class that loads here cannot end an open in NoClassDefFoundError.
 */
final class ClassPathCheck {
    private ClassPathCheck() {
    }

    /** Prints one line per class and resource; returns whether all were found. */
    static boolean report(PrintWriter out, List<String> classes, List<String> resources) {
        ClassLoader loader = ClassPathCheck.class.getClassLoader();
        boolean ok = true;
        for (String name : classes) {
            try {
                // Loaded, not initialised: JCuda's static initialisers load natives, which need a driver.
                Class<?> c = Class.forName(name, false, loader);
                CodeSource source = c.getProtectionDomain().getCodeSource();
                out.println("class " + name + ": loaded from " + (source == null ? "the runtime" : source.getLocation()));
            } catch (ClassNotFoundException | LinkageError e) {
                out.println("class " + name + ": NOT LOADABLE (" + e + ")");
                ok = false;
            }
        }
        for (String name : resources) {
            URL url = loader.getResource(name);
            out.println("resource " + name + ": " + (url == null ? "NOT FOUND" : "found at " + url));
            ok &= url != null;
        }
        return ok;
    }
}
