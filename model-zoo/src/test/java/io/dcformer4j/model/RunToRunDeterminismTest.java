package io.dcformer4j.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Identical inputs on the same backend and worker count give bit-identical logits: repeated in one process
 * from a cold JVM (the first passes run interpreted and C1-compiled kernels, later ones C2-compiled), and in a
 * fresh child JVM. The model has a real width (E = 1024, 16 heads, D = 64), where every vector loop runs
 * whole vectors and the reductions are long.
 */
class RunToRunDeterminismTest {
    private static final String CONFIG = "{\"model_type\": \"dcformer\", \"vocab_size\": 300, \"dim\": 1024, "
            + "\"n_head\": 16, \"n_layer\": 2, \"block_size\": 64, \"intermediate_size\": 1024, \"window_size\": 8, "
            + "\"window_type\": \"LG\", \"use_qk_norm\": true, \"norm_eps\": 1e-6, \"rope_base\": 10000}";
    private static final int REPEATS = 12;

    /** The logits of a 20-token prefill (all rows) and 6 decode steps, as one flat array. */
    static float[] pass(DCFormerModel model) {
        SplittableRandom rnd = new SplittableRandom(7);
        int[] prompt = rnd.ints(20, 0, 300).toArray();
        List<float[]> rows = new ArrayList<>();
        try (Session s = model.newSession()) {
            rows.addAll(Arrays.asList(s.prefill(prompt)));
            for (int i = 0; i < 6; i++) {
                rows.add(s.decode(rnd.nextInt(300)));
            }
        }
        return TestData.flatten(rows.toArray(new float[0][]));
    }

    static String digest(float[] x) {
        long h = 1125899906842597L;
        for (float f : x) {
            h = 31 * h + Float.floatToRawIntBits(f);
        }
        return Long.toHexString(h);
    }

    /** Opens the model with {@code threads} workers and runs {@link #pass} {@code repeats} times. */
    static List<float[]> passes(int threads, int repeats) {
        ModelConfig c = ModelConfig.parse(CONFIG);
        List<float[]> out = new ArrayList<>();
        try (Backend backend = Backends.open("cpu", BackendOptions.withThreads(threads));
             MemoryWeightSource w = RandomWeights.generate(c, DType.BF16, 11);
             DCFormerModel m = DCFormerModel.create(c, w, backend)) {
            for (int i = 0; i < repeats; i++) {
                out.add(pass(m));
            }
        }
        return out;
    }

    @Test
    void repeatedPassesInOneProcessAreBitIdentical() {
        for (int threads : new int[] {1, 2}) {
            List<float[]> runs = passes(threads, REPEATS);
            for (int i = 1; i < runs.size(); i++) {
                float[] a = runs.get(0);
                float[] b = runs.get(i);
                double worst = 0;
                int differ = 0;
                for (int x = 0; x < a.length; x++) {
                    if (Float.floatToRawIntBits(a[x]) != Float.floatToRawIntBits(b[x])) {
                        differ++;
                        worst = Math.max(worst, Math.abs(a[x] - b[x]));
                    }
                }
                assertThat(differ).as("%d worker(s): pass %d vs pass 0: %d logits differ, by up to %s", threads, i,
                        differ, worst).isZero();
            }
        }
    }

    @Test
    void aFreshProcessGivesTheSameLogits() throws IOException, InterruptedException {
        String here = digest(passes(1, 3).get(2));
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx1g"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Child.class.getName());
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String child = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("child JVM exit status").isZero();
        assertThat(child).as("digest of a cold child JVM's first pass vs this JVM's third").isEqualTo(here);
    }

    /** The child JVM: prints the digest of its first (cold) pass. */
    public static final class Child {
        public static void main(String[] args) {
            System.out.println(digest(passes(1, 1).get(0)));
        }
    }
}
