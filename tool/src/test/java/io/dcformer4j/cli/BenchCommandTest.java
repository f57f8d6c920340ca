package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.api.DType;
import io.dcformer4j.bench.BenchPreset;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code bench} command: JSON output on the tiny preset, and usage errors. */
class BenchCommandTest {

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void jsonRunOnTheTinyPresetHasTheIssueFields(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bench.json");
        Result r = run("bench", "--preset", "tiny", "--quick", "--json", "--backend", "cpu", "--threads", "1",
                "--prefill", "8", "--decode", "8", "--decode-steps", "2", "--bandwidth-mib", "16", "--json-out", file.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(new ObjectMapper().readTree(file.toFile())).isEqualTo(j);
        for (String f : new String[] {"prefill_tokens_per_s", "decode_tokens_per_s", "mha_prefill_tokens_per_s",
                "mha_decode_tokens_per_s", "bandwidth_gb_per_s", "decode_floor_tokens_per_s", "gemm_gflops", "ratios"}) {
            assertThat(j.has(f)).as(f).isTrue();
        }
        assertThat(j.get("prefill_tokens_per_s").get("8").asDouble()).isPositive();
        assertThat(j.get("ratios").get("dcmha_decode_overhead").has("8")).isTrue();
        assertThat(r.err()).contains("tiny: DCMHA: prefill T=8");
    }

    @Test
    void opTimesPrintsEachModelsOperations() {
        Result r = run("bench", "--preset", "tiny", "--op-times", "--backend", "cpu", "--threads", "1", "--decode", "8",
                "--decode-steps", "3");
        assertThat(r.exit()).as(r.err()).isZero();
        String dcmha = r.out().substring(r.out().indexOf("DCMHA:"), r.out().indexOf("\nMHA:"));
        String mha = r.out().substring(r.out().indexOf("\nMHA:"));
        assertThat(dcmha).contains("attentionDecode", "dynamicWeights", "linear [256, 64]", "outside the operations");
        assertThat(mha).contains("attentionDecode", "linear [256, 64]").doesNotContain("dynamicWeights");
        assertThat(r.err()).contains("tiny: 3 timed decode steps of each model, alternating");
    }

    @Test
    void opTimesRefusesOptionsItDoesNotUse() {
        Result r = run("bench", "--preset", "tiny", "--op-times", "--json");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--op-times prints its own table");
        Result two = run("bench", "--preset", "tiny", "--op-times", "--batch", "2,4");
        assertThat(two.exit()).isEqualTo(2);
        assertThat(two.err()).contains("--op-times takes one --batch size");
        Result big = run("bench", "--preset", "tiny", "--op-times", "--decode", "200");
        assertThat(big.exit()).isEqualTo(2);
        assertThat(big.err()).contains("must fit the preset's block size 128");
    }

    @Test
    void q8RunMeasuresTheQuantizedModel() throws Exception {
        Result r = run("bench", "--preset", "tiny", "--dtype", "q8_0", "--quick", "--json", "--backend", "cpu", "--threads", "1",
                "--prefill", "8", "--decode", "8", "--decode-steps", "2", "--bandwidth-mib", "16");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.toString()).contains("\"weight_dtype\":\"Q8_0\"");
        assertThat(j.get("decode_tokens_per_s").get("8").asDouble()).isPositive();
        BenchPreset q8 = BenchPreset.byName("tiny").with(DType.Q8_0, 128, 4);
        BenchPreset bf16 = BenchPreset.byName("tiny").with(DType.BF16, 128, 4);
        // the projections at 34 bytes per 32 values instead of 64: fewer bytes, more than half of BF16's
        assertThat(q8.weightBytes(true)).isLessThan(bf16.weightBytes(true)).isGreaterThan(bf16.weightBytes(true) / 2);
        assertThat(q8.decodeBytesPerToken(true)).isLessThan(bf16.decodeBytesPerToken(true));
    }

    @Test
    void batchRunReportsThroughputAndLatencyPerBatchSize() throws Exception {
        Result r = run("bench", "--preset", "tiny", "--quick", "--json", "--backend", "cpu", "--threads", "1",
                "--prefill", "8", "--decode", "8", "--decode-steps", "2", "--bandwidth-mib", "16", "--batch", "1,3");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        for (String f : new String[] {"batch_decode_tokens_per_s", "batch_step_latency_ms"}) {
            assertThat(j.get(f).has("1")).as(f).isTrue();
            assertThat(j.get(f).get("3").asDouble()).as(f).isPositive();
        }
        assertThat(j.get("ratios").get("batch_throughput_vs_1").get("1").asDouble()).isCloseTo(1.0, within(1e-12)); // tokens/s over tokens/s: one rounding
        assertThat(j.get("batch_context").asInt()).isEqualTo(8);
        assertThat(r.err()).contains("batched decode: B=3 step 2/2");
        Result table = run("bench", "--preset", "tiny", "--quick", "--backend", "cpu", "--threads", "1",
                "--prefill", "8", "--decode", "8", "--decode-steps", "1", "--bandwidth-mib", "16", "--batch", "2");
        assertThat(table.exit()).as(table.err()).isZero();
        assertThat(table.out()).contains("batched decode").contains("batch 2");
        assertThat(run("bench", "--preset", "tiny", "--batch", "0").exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("bench", "--preset", "tiny", "--batch", "65").exit()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void badArgumentsAreUsageErrors() {
        Result unknown = run("bench", "--preset", "enormous");
        assertThat(unknown.exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(unknown.err()).contains("enormous").contains("small");
        assertThat(run("bench", "--preset", "tiny", "--dtype", "I32").exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("bench", "--preset", "tiny", "--threads", "-1").exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("bench").exit()).isEqualTo(Main.EXIT_USAGE);
        assertThat(run("bench", "--preset", "tiny", "--bandwidth-mib", "0").exit()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void releasedShapeWithOneLayerWritesLoadsAndReports(@TempDir Path dir) throws Exception {
        // The real DCFormer-2.8B widths (embedding and head of 50257 x 2560) with one of its 32 layers.
        Result r = run("bench", "--preset", "dcformer-2.8b", "--layers", "1", "--prompt-length", "8", "--decode-steps", "1",
                "--bandwidth-mib", "16", "--backend", "cpu", "--json", "--weights-dir", dir.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("preset").asText()).isEqualTo("dcformer-2.8b");
        assertThat(j.get("dtype").asText()).isEqualTo("BF16");
        assertThat(j.get("shape").asText()).contains("E=2560", "N=32", "D=80", "F=6912", "L=1");
        for (String f : new String[] {"load_s", "time_to_first_token_s", "decode_tokens_per_s", "decode_floor_tokens_per_s",
                "bandwidth_gb_per_s", "write_s"}) {
            assertThat(j.get(f).asDouble()).as(f).isPositive();
        }
        assertThat(dir.resolve("model.safetensors.index.json")).exists();
    }

    @Test
    void releasedShapeRefusesTheSyntheticPresetsOptions() {
        Result r = run("bench", "--preset", "dcpythia-6.9b", "--batch", "1,8");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--batch").contains("dcpythia-6.9b");
        Result layers = run("bench", "--preset", "dcpythia-6.9b", "--layers", "40");
        assertThat(layers.exit()).isEqualTo(2);
        assertThat(layers.err()).contains("[1, 32]");
        Result q = run("bench", "--preset", "dcformer-2.8b", "--dtype", "I32");
        assertThat(q.exit()).isEqualTo(2);
        assertThat(q.err()).contains("--dtype");
        Result synthetic = run("bench", "--preset", "tiny", "--prompt-length", "8");
        assertThat(synthetic.exit()).isEqualTo(2);
        assertThat(synthetic.err()).contains("--prompt-length");
    }
}
