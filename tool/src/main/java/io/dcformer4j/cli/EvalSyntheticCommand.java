package io.dcformer4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dcformer4j.DCFormer;
import io.dcformer4j.api.Backend;
import io.dcformer4j.eval.BracketedAnswers;
import io.dcformer4j.model.Quantization;
import io.dcformer4j.model.Session;
import io.dcformer4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dcformer4j eval-synthetic}: teacher-forced exact-match accuracy on the bracketed answers of a
 * synthetic compositional data file (JSON Lines of {@code {"task_id", "texts"}}, spec §8), per task and
 * averaged over tasks.
 */
@Command(name = "eval-synthetic", mixinStandardHelpOptions = true,
        description = {"Teacher-forced exact-match accuracy on the [ bracketed ] answers of a synthetic task file",
                "(JSON Lines of {\"task_id\", \"texts\"}): markers removed, one forward pass per text, a span is",
                "correct iff each of its tokens is the argmax at the position before it. Per task and macro-average."})
public final class EvalSyntheticCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "Model directory (default: the demo DCFormer).")
    private Path model;

    @Option(names = "--quantize", paramLabel = "TYPE", defaultValue = "none", converter = QuantizationConverter.class,
            description = QuantizationConverter.DESCRIPTION)
    private Quantization quantize;

    @Option(names = "--mha", description = "Use the demo's plain-MHA baseline.")
    private boolean mha;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "JSON Lines data file.")
    private Path data;

    @Option(names = "--limit", paramLabel = "N", description = "Evaluate only the first N texts.")
    private Integer limit;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    private boolean json;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend name (default: -Ddcformer4j.backend, $DCFORMER4J_BACKEND, else the best available).")
    private String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Backend worker threads (default: all processors).")
    private int threads;

    /** Counts of one task. */
    private static final class Tally {
        int samples;
        int spans;
        int correct;
        double logProb;

        double accuracy() {
            return spans == 0 ? 0 : correct / (double) spans;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (limit != null && limit < 1) {
            throw CliSupport.usage(spec, "--limit must be at least 1, got " + limit);
        }
        if (!Files.isRegularFile(data)) {
            throw CliSupport.usage(spec, "--data " + data + " is not a file");
        }
        Path dir = CliSupport.modelDirectory(spec, model, mha);
        Map<String, Tally> tasks = new LinkedHashMap<>();
        int skipped = 0;
        try (Backend be = CliSupport.openBackend(spec, backend, threads);
             DCFormer m = CliSupport.load(spec, dir, be, quantize);
             BufferedReader in = Files.newBufferedReader(data)) {
            Tokenizer tok = m.tokenizer();
            int block = m.config().blockSize();
            String line;
            int lineNo = 0;
            int done = 0;
            while ((line = in.readLine()) != null && (limit == null || done < limit)) {
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row = parseRow(line, lineNo);
                BracketedAnswers.Sample sample = BracketedAnswers.parse(row.get("texts").asText());
                int[] ids = tok.encode(sample.text());
                done++;
                if (ids.length > block || ids.length == 0) {
                    skipped++;
                    continue;
                }
                List<int[]> spans = BracketedAnswers.answerTokens(tok, sample, ids);
                float[][] logits;
                try (Session s = m.model().newSession(ids.length)) {
                    logits = s.prefill(ids);
                }
                Tally t = tasks.computeIfAbsent(row.get("task_id").asText(), k -> new Tally());
                t.samples++;
                for (int[] span : spans) {
                    t.spans++;
                    if (BracketedAnswers.correct(ids, logits, span[0], span[1])) {
                        t.correct++;
                    }
                    t.logProb += BracketedAnswers.logProb(ids, logits, span[0], span[1]);
                }
            }
        }
        report(dir, tasks, skipped);
        return 0;
    }

    private JsonNode parseRow(String line, int lineNo) {
        JsonNode row;
        try {
            row = JSON.readTree(line);
        } catch (Exception e) {
            throw new IllegalArgumentException(data + " line " + lineNo + ": not valid JSON");
        }
        if (row == null || !row.path("task_id").isTextual() || !row.path("texts").isTextual()) {
            throw new IllegalArgumentException(data + " line " + lineNo + ": expected {\"task_id\": ..., \"texts\": ...}");
        }
        return row;
    }

    private void report(Path dir, Map<String, Tally> tasks, int skipped) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        int spans = 0;
        int correct = 0;
        int samples = 0;
        double macro = 0;
        double logProb = 0;
        for (Tally t : tasks.values()) {
            logProb += t.logProb;
            spans += t.spans;
            correct += t.correct;
            samples += t.samples;
            macro += t.accuracy();
        }
        macro = tasks.isEmpty() ? 0 : macro / tasks.size();
        double micro = spans == 0 ? 0 : correct / (double) spans;
        if (json) {
            ObjectNode root = JSON.createObjectNode();
            root.put("model", dir.toString());
            root.put("data", data.toString());
            root.put("samples", samples);
            root.put("skipped_longer_than_block", skipped);
            root.put("spans", spans);
            root.put("correct", correct);
            root.put("macro_accuracy", macro);
            root.put("micro_accuracy", micro);
            root.put("mean_answer_logprob", spans == 0 ? 0 : logProb / spans);
            ObjectNode per = root.putObject("tasks");
            tasks.forEach((k, t) -> per.putObject(k).put("samples", t.samples).put("spans", t.spans)
                    .put("correct", t.correct).put("accuracy", t.accuracy()));
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } else {
            out.printf(Locale.ROOT, "%-12s %8s %6s %8s %9s%n", "task", "samples", "spans", "correct", "accuracy");
            tasks.forEach((k, t) -> out.printf(Locale.ROOT, "%-12s %8d %6d %8d %8.1f%%%n", k, t.samples, t.spans, t.correct,
                    100 * t.accuracy()));
            out.printf(Locale.ROOT, "macro-average accuracy %.1f%% over %d tasks (%d spans in %d texts; micro %.1f%%)%n",
                    100 * macro, tasks.size(), spans, samples, 100 * micro);
            out.printf(Locale.ROOT, "mean answer log-probability %.4f%n", spans == 0 ? 0 : logProb / spans);
            if (skipped > 0) {
                out.println(skipped + " texts longer than the model's block_size were skipped");
            }
        }
        out.flush();
    }
}
