package io.dcformer4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds the demo models shipped in the jar's resources ({@code io/dcformer4j/demo/dcformer}, {@code io/dcformer4j/demo/mha}). When the
 * resources are plain files (a build tree) they are used in place; inside a jar they are copied once per JVM
 * to a temporary directory, because checkpoints are memory-mapped from files.
 */
final class DemoModels {
    /** Where the demo models sit in the jar ({@code io/dcformer4j/demo/dcformer}, {@code .../mha}). */
    static final String RESOURCE_ROOT = "/io/dcformer4j/demo/";
    private static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json");
    private static Path extracted;

    private DemoModels() {
    }

    static synchronized Path directory(String variant) {
        // Under the module's own package path: a top-level "demo" folder would be a package "demo" of this
        // module under JPMS and clash with any application module that has one.
        String base = RESOURCE_ROOT + variant + "/";
        URL config = DemoModels.class.getResource(base + "config.json");
        if (config == null) {
            throw new IllegalStateException("the demo model '" + variant + "' is not in this build (resource " + base
                    + "config.json is missing)");
        }
        if (config.getProtocol().equals("file")) {
            try {
                return Path.of(config.toURI()).getParent();
            } catch (URISyntaxException e) {
                throw new IllegalStateException("bad demo resource URL " + config, e);
            }
        }
        if (extracted == null) {
            extracted = createTempRoot();
        }
        Path dir = extracted.resolve(variant);
        try {
            if (!Files.isDirectory(dir)) {
                Path tmp = extracted.resolve(variant + ".partial");
                Files.createDirectories(tmp);
                for (String f : FILES) {
                    try (InputStream in = DemoModels.class.getResourceAsStream(base + f)) {
                        if (in != null) {
                            Files.copy(in, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
                Files.move(tmp, dir);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the demo model to " + dir + ": " + e.getMessage(), e);
        }
    }


    private static Path createTempRoot() {
        try {
            Path root = Files.createTempDirectory("dcformer4j-demo-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the demo model", e);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // Best effort at exit: a leftover temporary directory is harmless.
        }
    }
}
