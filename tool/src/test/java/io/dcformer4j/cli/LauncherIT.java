package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code ./dcformer4j} launcher in a fresh {@code git clone} of this repository (run by failsafe
 * after {@code package}). The clone gets the jars this build made, so the launcher runs them instead of
 * building for minutes, and the working tree's launcher scripts, so an uncommitted edit is what is tested.
 * It checks what a new user on a GPU machine depends on: {@code backends} lists {@code cuda} with its state,
 * JCuda's classes and JNI library are on the launcher's class path (no NoClassDefFoundError when the backend
 * opens), and the shaded distribution jar finds every backend. A stub {@code mvnw} checks the rebuild rules.
 */
class LauncherIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path TARGET = Path.of("target").toAbsolutePath();

    @TempDir
    static Path tmp;
    private static Path clone;
    private static String jcudaVersion;

    @BeforeAll
    static void cloneTheRepository() throws Exception {
        assumeTrue(Files.exists(ROOT.resolve(".git")), "not a git checkout: " + ROOT);
        clone = tmp.resolve("clone");
        Result git = run(List.of("git", "clone", "-q", ROOT.toString(), clone.toString()), tmp, Map.of());
        assumeTrue(git.exit() == 0, "git clone failed: " + git.err());
        for (String script : List.of("dcformer4j", "tools/jdk25")) {
            Files.copy(ROOT.resolve(script), clone.resolve(script), StandardCopyOption.REPLACE_EXISTING);
        }
        // The jars, copied after the clone so they are newer than every cloned source.
        Path lib = Files.createDirectories(clone.resolve("tool/target/lib"));
        try (Stream<Path> jars = Files.list(TARGET)) {
            for (Path jar : jars.filter(LauncherIT::isToolJar).toList()) {
                Files.copy(jar, clone.resolve("tool/target").resolve(jar.getFileName()));
            }
        }
        try (Stream<Path> jars = Files.list(TARGET.resolve("lib"))) {
            for (Path jar : jars.toList()) {
                Files.copy(jar, lib.resolve(jar.getFileName()));
                String name = jar.getFileName().toString();
                if (name.startsWith("jcuda-natives-")) {
                    jcudaVersion = name.substring("jcuda-natives-".length(), name.indexOf("-linux"));
                }
            }
        }
        assertThat(jcudaVersion).as("a jcuda-natives-*-linux-x86_64.jar in tool/target/lib (copied by the build)")
                .isNotNull();
    }

    private static boolean isToolJar(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith("dcformer4j-tool-") && n.endsWith(".jar") && !n.endsWith("-all.jar");
    }

    @Test
    void backendsListsCudaAndTheLaunchersClassPathLoadsJCuda() throws Exception {
        Result r = launcher("backends", "--load-class", "jcuda.driver.CUdeviceptr", "--load-class",
                "jcuda.driver.JCudaDriver", "--find-resource", driverLibrary());
        assertThat(r.exit()).as("exit code; stdout:%n%s%nstderr:%n%s", r.out(), r.err()).isZero();
        assertThat(r.err()).as("no build: the jars are newer than the sources").doesNotContain("building");
        String cuda = r.out().lines().filter(l -> l.strip().startsWith("cuda ")).findFirst().orElse("");
        assertThat(cuda).as("the cuda provider's line").matches(
                "\\s*cuda\\s+priority\\s+100\\s+(available|unavailable)\\s+\\S.*");
        assertThat(r.out()).contains("class jcuda.driver.CUdeviceptr: loaded from "
                + "file:" + clone.resolve("tool/target/lib") + "/jcuda-");
        assertThat(r.out()).contains("class jcuda.driver.JCudaDriver: loaded from ");
        assertThat(r.out()).contains("resource " + driverLibrary() + ": found at jar:");
        assertThat(r.out() + r.err()).doesNotContain("NOT LOADABLE", "NOT FOUND", "NoClassDefFoundError");
        assertThat(r.out()).containsPattern("(?m)^\\s*cpu\\s+priority\\s+10\\s+available");
    }

    @Test
    void argumentsArriveAsUtf8UnderLangCAndInspectFailsOnAMissingModel() throws Exception {
        Path missing = tmp.resolve("kein-modell-éè-模型");
        List<String> cmd = List.of("bash", clone.resolve("dcformer4j").toString(), "inspect", missing.toString());
        Result r = run(cmd, clone, Map.of("JAVA_HOME", System.getProperty("java.home"), "LANG", "C", "LC_ALL", "C"));
        assertThat(r.exit()).as("inspect of a missing directory").isNotZero();
        assertThat(r.err()).as("the path as given, not '?' for each non-ASCII byte").contains(missing.toString());
    }

    @Test
    void theShadedJarFindsEveryBackendAndCarriesJCuda() throws Exception {
        Path all;
        try (Stream<Path> jars = Files.list(TARGET)) {
            all = jars.filter(p -> p.getFileName().toString().endsWith("-all.jar")).findFirst().orElseThrow();
        }
        Result r = run(List.of(javaBin(), "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-jar", all.toString(), "backends", "--load-class", "jcuda.driver.CUdeviceptr", "--find-resource",
                driverLibrary()), tmp, Map.of());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).containsPattern("(?m)^\\s*cuda\\s+priority\\s+100")
                .containsPattern("(?m)^\\s*cpu\\s+priority\\s+10\\s+available")
                .contains("class jcuda.driver.CUdeviceptr: loaded from file:" + all)
                .contains("resource " + driverLibrary() + ": found at jar:file:" + all + "!/");
    }

    @Test
    void aSourceNewerThanTheJarsRebuildsWithPackageShowingOneLine() throws Exception {
        Path args = tmp.resolve("mvnw-args");
        stubMaven(args, 0);
        touchFuture(clone.resolve("model-zoo/src/main/java/io/dcformer4j/DCFormer.java"));
        try {
            Result r = launcher("backends");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(Files.readString(args)).contains("package").doesNotContain("install");
            List<String> build = r.err().lines().filter(l -> !l.startsWith("WARNING: Using incubator")).toList();
            assertThat(build).as("stderr: one progress line, the build's output kept in the log").hasSize(1);
            assertThat(build.get(0)).startsWith("dcformer4j: building the project (sources changed")
                    .endsWith("s)");
            assertThat(Files.readString(clone.resolve("target/launcher-build.log"))).contains("compiler noise 500");
        } finally {
            restore();
        }
    }

    @Test
    void aFailedBuildShowsTheEndOfItsLog() throws Exception {
        stubMaven(tmp.resolve("mvnw-args-failing"), 1);
        touchFuture(clone.resolve("tool/pom.xml"));
        try {
            Result r = launcher("backends");
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("the build failed", "compiler noise 500").doesNotContain("compiler noise 400");
        } finally {
            restore();
        }
    }

    private static String driverLibrary() {
        return "lib/libJCudaDriver-" + jcudaVersion + "-linux-x86_64.so";
    }

    private static void stubMaven(Path argsFile, int exit) throws IOException {
        Path mvnw = clone.resolve("mvnw");
        Files.move(mvnw, clone.resolve("mvnw.real"), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(mvnw, "#!/usr/bin/env bash\necho \"$@\" > '" + argsFile + "'\n"
                + "for i in $(seq 1 500); do echo \"compiler noise $i\"; done\nexit " + exit + "\n");
        mvnw.toFile().setExecutable(true);
    }

    /** Puts the real wrapper back and makes the jars newer than any touched source again. */
    private static void restore() throws IOException {
        Files.move(clone.resolve("mvnw.real"), clone.resolve("mvnw"), StandardCopyOption.REPLACE_EXISTING);
        FileTime later = FileTime.from(toolJarTime().toInstant().plusSeconds(3600));
        try (Stream<Path> jars = Files.list(clone.resolve("tool/target"))) {
            for (Path jar : jars.filter(LauncherIT::isToolJar).toList()) {
                Files.setLastModifiedTime(jar, later);
            }
        }
    }

    /** Makes {@code file} a minute newer than the tool jar, as a git pull after the build would. */
    private static void touchFuture(Path file) throws IOException {
        assertThat(file).isRegularFile();
        Files.setLastModifiedTime(file, FileTime.from(toolJarTime().toInstant().plusSeconds(60)));
    }

    private static FileTime toolJarTime() throws IOException {
        try (Stream<Path> jars = Files.list(clone.resolve("tool/target"))) {
            return Files.getLastModifiedTime(jars.filter(LauncherIT::isToolJar).findFirst().orElseThrow());
        }
    }

    private static Result launcher(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", clone.resolve("dcformer4j").toString()));
        cmd.addAll(List.of(args));
        return run(cmd, clone, Map.of("JAVA_HOME", System.getProperty("java.home")));
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private record Result(int exit, String out, String err) {
    }

    private static Result run(List<String> cmd, Path dir, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().remove("DCFORMER4J_BACKEND");
        pb.environment().remove("JAVA_OPTS");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(10, TimeUnit.MINUTES)) { // a guard against a hang, not a speed check
            p.destroyForcibly();
            throw new IllegalStateException("still running after 10 minutes: " + cmd);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
