package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The BOM stays in step with the build, and the README's test command finds a JDK 25 without JAVA_HOME. */
class BuildFilesTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void theBomListsEveryPublishedModuleAtTheBuildsVersions() throws IOException {
        String parent = Files.readString(ROOT.resolve("pom.xml"));
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        assertThat(first(bom, "<version>([^<$]+)</version>")).isEqualTo(first(parent, "<version>([^<$]+)</version>"));
        assertThat(first(bom, "<jcuda.version>([^<]+)<")).isEqualTo(first(parent, "<jcuda.version>([^<]+)<"));
        Matcher modules = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
        List<String> missing = new ArrayList<>();
        while (modules.find()) {
            String module = modules.group(1);
            if (module.equals("bom") || module.equals("benchmarks")) {
                continue;
            }
            String artifact = first(Files.readString(ROOT.resolve(module).resolve("pom.xml")),
                    "</parent>\\s*<artifactId>([^<]+)</artifactId>");
            if (!bom.contains("<artifactId>" + artifact + "</artifactId>")) {
                missing.add(artifact);
            }
        }
        assertThat(missing).as("modules missing from bom/pom.xml").isEmpty();
    }

    @Test
    void theReadmesTestCommandFindsAJdk25WithoutJavaHome() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        assertThat(readme).contains("\ntools/jdk25 ./mvnw -B -ntp verify\n");
        // The same command with -v in place of the build: the wrapper starts Maven on a JDK 25.
        ProcessBuilder pb = new ProcessBuilder("bash", "tools/jdk25", "./mvnw", "-v").directory(ROOT.toFile())
                .redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("JAVA_HOME");
        env.put("PATH", "/usr/bin:/bin");
        Path out = Files.createTempFile("jdk25", ".txt");
        try {
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("finished").isTrue();
            String text = Files.readString(out);
            assertThat(p.exitValue()).as(text).isZero();
            assertThat(text).containsPattern("Java version: 2[5-9]");
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static String first(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("%s in the pom", regex).isTrue();
        return m.group(1);
    }
}
