package io.dcformer4j.spark;

import io.dcformer4j.DCFormer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * Turns a model path into a local directory that can be memory-mapped. Local paths and {@code file:} URIs are
 * used in place (they must exist on every executor); {@code demo:dcformer} and {@code demo:mha} name the
 * shipped demo models; any other scheme is read through Hadoop's {@link FileSystem} and copied once to a fresh
 * directory under {@code java.io.tmpdir}, because checkpoints are memory-mapped and a remote stream cannot be.
 */
final class ModelFiles {
    private ModelFiles() {
    }

    /** Whether {@code path} is read through Hadoop and copied (so executors need the driver's Hadoop configuration). */
    static boolean isRemote(String path) {
        String scheme = scheme(path);
        return scheme != null && !scheme.equals("file") && !scheme.equals("demo");
    }

    /**
     * The local directory of {@code path}: itself, the demo model, or a copy of a remote directory.
     *
     * @param conf the Hadoop configuration for remote paths (may be null for local ones)
     */
    static LocalModel localDirectory(String path, Configuration conf) {
        String scheme = scheme(path);
        if (scheme == null) {
            return new LocalModel(Path.of(path), null);
        }
        if (scheme.equals("demo")) {
            return new LocalModel(DCFormer.demoDirectory(path.substring("demo:".length())), null);
        }
        URI uri = URI.create(path);
        if (scheme.equals("file")) {
            return new LocalModel(Path.of(uri), null);
        }
        Path dir = copyToLocal(uri, conf == null ? new Configuration() : conf);
        return new LocalModel(dir, dir);
    }

    /**
     * Copies the directory at {@code uri} (recursively) into a new temporary directory; returns it.
     *
     * @throws UncheckedIOException naming the URI when it cannot be read
     */
    static Path copyToLocal(URI uri, Configuration conf) {
        Path target = null;
        try {
            org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
            FileSystem fs = src.getFileSystem(conf);
            FileStatus status = fs.getFileStatus(src);
            if (!status.isDirectory()) {
                throw new IllegalArgumentException("model path " + uri + " is not a directory");
            }
            target = Files.createTempDirectory("dcformer4j-spark-model-");
            for (FileStatus child : fs.listStatus(src)) {
                org.apache.hadoop.fs.Path dst = new org.apache.hadoop.fs.Path(
                        target.resolve(child.getPath().getName()).toUri());
                // the raw local file system: no .crc files beside the copy
                fs.copyToLocalFile(false, child.getPath(), dst, true);
            }
            return target;
        } catch (IOException e) {
            if (target != null) {
                deleteQuietly(target);
            }
            throw new UncheckedIOException("cannot copy the model directory " + uri + " to local disk: " + e.getMessage(), e);
        }
    }

    /** Deletes a copied directory (at shutdown); failures are ignored, the JVM is going away. */
    static void deleteQuietly(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }

    private static String scheme(String path) {
        if (path.startsWith("demo:")) {
            return "demo";
        }
        // A Windows drive letter or a plain path has no URI scheme of two or more letters.
        int colon = path.indexOf(':');
        if (colon < 2) {
            return null;
        }
        try {
            return new URI(path).getScheme();
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /**
     * A model directory on local disk.
     *
     * @param directory where it is
     * @param copy      the same directory when it is a temporary copy to delete at shutdown, else null
     */
    record LocalModel(Path directory, Path copy) {
    }
}
