package io.dcformer4j.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.apache.spark.sql.SparkSession;

/**
 * One {@code local[2]} SparkSession for every test class of this module (they run in one surefire JVM), because
 * starting Spark costs seconds on two cores; and the demo model's held-out file as a plain file.
 */
final class SharedSpark {
    private static SparkSession session;
    private static Path heldout;

    private SharedSpark() {
    }

    static synchronized SparkSession session() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2]")
                    .appName("dcformer4j-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    // A Hadoop file system with its own scheme over local files, so the copy of a "remote" model
                    // directory is exercised end to end.
                    .config("spark.hadoop.fs.testfs.impl", TestFileSystem.class.getName())
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    /** The held-out split of the demo model's task (JSON Lines of {"task_id", "texts"}), as a file. */
    static synchronized Path heldout() {
        if (heldout == null) {
            for (String name : new String[] {"/demo/heldout.jsonl", "/io/dcformer4j/demo/heldout.jsonl"}) {
                try (InputStream in = SharedSpark.class.getResourceAsStream(name)) {
                    if (in != null) {
                        Path f = Files.createTempFile("heldout-", ".jsonl");
                        f.toFile().deleteOnExit();
                        Files.copy(in, f, StandardCopyOption.REPLACE_EXISTING);
                        heldout = f;
                        break;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            if (heldout == null) {
                throw new IllegalStateException("the demo held-out file is not on the class path");
            }
        }
        return heldout;
    }
}
