package io.dcformer4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dcformer4j.DCFormer;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.Session;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The shipped demo models, run by the Java engine, against what the PyTorch training script measured on the
 * same exported weights ({@code tools/demo-model/report-*.json} and {@code reference-logits-*.json}, copied
 * into the test resources): the logits of one prompt, and the held-out accuracy of every task over all 1,800
 * answer spans. The README's accuracy figures must be those of the reports.
 */
class DemoModelsAgreementTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path HELDOUT = Path.of("../model-zoo/src/main/resources/io/dcformer4j/demo/heldout.jsonl");
    /** F32 compute from the same BF16 weights in both engines; only summation order differs. */
    private static final double LOGITS_REL_L2 = 1e-4;
    /** Spans whose argmax is a near-tie may flip between two F32 engines; allow one per task (of 150). */
    private static final int SPANS_PER_TASK_SLACK = 1;

    @ParameterizedTest
    @ValueSource(strings = {"dcformer", "mha"})
    void referencePromptLogitsMatchPyTorch(String variant) throws IOException {
        JsonNode ref = resource("reference-logits-" + variant + ".json");
        int[] ids = ints(ref.get("token_ids"));
        try (Backend backend = Backends.open("cpu");
             DCFormer model = variant.equals("mha") ? DCFormer.demoBaseline(backend) : DCFormer.demo(backend)) {
            assertThat(model.tokenizer().encode(ref.get("prompt").asText()))
                    .as("the Java tokenizer encodes the reference prompt as the training script did")
                    .containsExactly(ids);
            float[][] logits;
            try (Session s = model.model().newSession()) {
                logits = s.prefill(ids);
            }
            double err = 0;
            double norm = 0;
            for (int t = 0; t < ids.length; t++) {
                JsonNode row = ref.get("logits").get(t);
                assertThat(row.size()).isEqualTo(logits[t].length);
                for (int v = 0; v < row.size(); v++) {
                    double want = row.get(v).asDouble();
                    err += (logits[t][v] - want) * (logits[t][v] - want);
                    norm += want * want;
                }
            }
            double rel = Math.sqrt(err / norm);
            assertThat(rel).as("relative L2 error of %s logits [%d x %d]", variant, ids.length, logits[0].length)
                    .isLessThan(LOGITS_REL_L2);
            int last = ids.length - 1;
            assertThat(argmax(logits[last])).as("next token after the prompt").isEqualTo(ref.get("argmax").get(last).asInt());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dcformer", "mha"})
    void heldOutAccuracyMatchesTheTrainingReport(String variant) throws IOException {
        JsonNode report = resource("report-" + variant + ".json");
        CliRun r = variant.equals("mha")
                ? CliRun.of("eval-synthetic", "--data", HELDOUT.toString(), "--mha", "--backend", "cpu", "--json")
                : CliRun.of("eval-synthetic", "--data", HELDOUT.toString(), "--backend", "cpu", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode got = JSON.readTree(r.out());
        assertThat(got.get("spans").asInt()).isEqualTo(1800);
        JsonNode want = report.get("heldout_per_task");
        assertThat(got.get("tasks").size()).isEqualTo(want.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = want.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> task = it.next();
            JsonNode mine = got.get("tasks").get(task.getKey());
            assertThat(mine).as("task %s evaluated", task.getKey()).isNotNull();
            int spans = mine.get("spans").asInt();
            long wantCorrect = Math.round(task.getValue().asDouble() * spans);
            long gotCorrect = Math.round(mine.get("accuracy").asDouble() * spans);
            assertThat(gotCorrect).as("%s %s: correct spans of %d (Java engine vs PyTorch)", variant, task.getKey(), spans)
                    .isBetween(wantCorrect - SPANS_PER_TASK_SLACK, wantCorrect + SPANS_PER_TASK_SLACK);
        }
        assertThat(got.get("macro_accuracy").asDouble())
                .isCloseTo(report.get("heldout_accuracy_task_mean").asDouble(), offset(0.01));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dcformer", "mha"})
    void theReadmeQuotesTheReportedAccuracy(String variant) throws IOException {
        JsonNode report = resource("report-" + variant + ".json");
        String pct = String.format(Locale.ROOT, "%.1f %%", 100 * report.get("heldout_accuracy_task_mean").asDouble());
        String label = variant.equals("mha") ? "plain MHA " : "DCFormer ";
        boolean quoted = Files.readString(Path.of("../README.md")).contains(label + pct);
        assertThat(quoted).as("README.md quotes the %s held-out accuracy of its report as \"%s\"", variant, label + pct)
                .isTrue();
    }

    @Test
    void theQuickStartCommandPrintsWhatTheReadmeSays() throws IOException {
        String prompt = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";
        String readme = Files.readString(Path.of("../README.md"));
        assertThat(readme.contains("./dcformer4j generate --stop '\\n' \"" + prompt + "\"")).as("README's quick start").isTrue();
        assertThat(readme.contains("prints ` animal`")).as("README says what the quick start prints").isTrue();
        CliRun r = CliRun.of("generate", "--stop", "\\n", "--backend", "cpu", prompt);
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).startsWith(" animal").matches("(?s) animal\\R?");
    }

    @Test
    void theReadmeEvalCommandsNameTheShippedHeldOutFile() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        Matcher m = Pattern.compile("\\./dcformer4j eval-synthetic --data (\\S+)").matcher(readme);
        int commands = 0;
        while (m.find()) {
            commands++;
            Path data = Path.of("..").resolve(m.group(1)).normalize();
            assertThat(data).as("README's eval-synthetic --data path, from the repository root").isRegularFile();
            assertThat(data.toAbsolutePath().normalize()).isEqualTo(HELDOUT.toAbsolutePath().normalize());
        }
        assertThat(commands).as("eval-synthetic commands in README.md").isPositive();
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = DemoModelsAgreementTest.class.getResourceAsStream("demo/" + name)) {
            assertThat(in).as("test resource io/dcformer4j/cli/demo/%s", name).isNotNull();
            return JSON.readTree(in);
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static int argmax(float[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) {
            if (row[i] > row[best]) {
                best = i;
            }
        }
        return best;
    }
}
