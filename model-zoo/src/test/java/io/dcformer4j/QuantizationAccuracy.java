package io.dcformer4j;

import io.dcformer4j.eval.BracketedAnswers;
import io.dcformer4j.generate.Sampler;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.Session;
import io.dcformer4j.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The accuracy measures of quantized weights against the same model unquantized, as docs/performance.md
 * reports them.
 *
 * <p>Greedy agreement: the reference model continues a prompt greedily for n tokens; the quantized model then
 * reads the same text (teacher-forced) and the agreement is the share of those n positions where its argmax
 * is the reference's token. Comparing two free-running generations instead would count every token after the
 * first difference as a miss, however close the models; the step where free-running generations first part is
 * reported beside it. The logits' relative L2 is ‖q − r‖ / ‖r‖ over all those positions.
 */
final class QuantizationAccuracy {
    private static final ObjectMapper JSON = new ObjectMapper();

    private QuantizationAccuracy() {
    }

    /**
     * @param agreement       share of the generated positions where the quantized argmax is the reference token
     * @param relL2           relative L2 of the quantized logits to the reference ones over those positions
     * @param firstDivergence the median over prompts of the first step at which free-running greedy generations
     *                        differ (n if never)
     * @param tokens          generated positions compared (prompts × n)
     */
    record Greedy(double agreement, double relL2, int firstDivergence, int tokens) {
    }

    /** {@link #greedy(DCFormerModel, DCFormerModel, int[], int)} summed over several prompts. */
    static Greedy greedy(DCFormerModel reference, DCFormerModel quantized, List<int[]> prompts, int n) {
        double agree = 0;
        double num = 0;
        double den = 0;
        int[] diverge = new int[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            Part g = part(reference, quantized, prompts.get(i), n);
            agree += g.agree();
            num += g.num();
            den += g.den();
            diverge[i] = g.diverge();
        }
        java.util.Arrays.sort(diverge);
        return new Greedy(agree / (n * prompts.size()), Math.sqrt(num / den), diverge[diverge.length / 2], n * prompts.size());
    }

    /** Greedy agreement of {@code quantized} with {@code reference} over n tokens after {@code prompt}. */
    static Greedy greedy(DCFormerModel reference, DCFormerModel quantized, int[] prompt, int n) {
        return greedy(reference, quantized, List.of(prompt), n);
    }

    /** One prompt's agreeing positions, squared logit differences and reference norms, and divergence step. */
    private record Part(int agree, double num, double den, int diverge) {
    }

    private static Part part(DCFormerModel reference, DCFormerModel quantized, int[] prompt, int n) {
        int[] text = new int[prompt.length + n];
        System.arraycopy(prompt, 0, text, 0, prompt.length);
        float[][] ref = new float[n][]; // logits predicting text[prompt.length + i]
        try (Session s = reference.newSession(text.length)) {
            float[] last = s.prefillLast(prompt);
            for (int i = 0; i < n; i++) {
                ref[i] = last;
                text[prompt.length + i] = Sampler.argmax(last);
                if (i + 1 < n) {
                    last = s.decode(text[prompt.length + i]);
                }
            }
        }
        float[][] q;
        try (Session s = quantized.newSession(text.length)) {
            q = s.prefill(java.util.Arrays.copyOf(text, text.length - 1));
        }
        int agree = 0;
        double num = 0;
        double den = 0;
        for (int i = 0; i < n; i++) {
            float[] qi = q[prompt.length - 1 + i];
            if (Sampler.argmax(qi) == text[prompt.length + i]) {
                agree++;
            }
            for (int v = 0; v < qi.length; v++) {
                double d = (double) qi[v] - ref[i][v];
                num += d * d;
                den += (double) ref[i][v] * ref[i][v];
            }
        }
        int diverge = n;
        try (Session s = quantized.newSession(text.length)) {
            float[] last = s.prefillLast(prompt);
            for (int i = 0; i < n; i++) {
                int t = Sampler.argmax(last);
                if (t != text[prompt.length + i]) {
                    diverge = i;
                    break;
                }
                if (i + 1 < n) {
                    last = s.decode(t);
                }
            }
        }
        return new Part(agree, num, den, diverge);
    }

    /**
     * @param macro        mean over tasks of the share of correct answer spans
     * @param micro        share of all answer spans that are correct
     * @param meanLogProb  mean over answer spans of the answer's log-probability
     */
    record Eval(double macro, double micro, double meanLogProb, int spans) {
    }

    /** The eval-synthetic protocol (README) over a JSON Lines file, with the mean answer log-probability. */
    static Eval evalSynthetic(DCFormer model, Path data) {
        Tokenizer tok = model.tokenizer();
        Map<String, int[]> tasks = new LinkedHashMap<>(); // task → {spans, correct}
        double logProb = 0;
        int spans = 0;
        int correct = 0;
        try {
            for (String line : Files.readAllLines(data)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode row = JSON.readTree(line);
                BracketedAnswers.Sample sample = BracketedAnswers.parse(row.get("texts").asText());
                int[] ids = tok.encode(sample.text());
                if (ids.length == 0 || ids.length > model.config().blockSize()) {
                    continue;
                }
                List<int[]> ranges = BracketedAnswers.answerTokens(tok, sample, ids);
                float[][] logits;
                try (Session s = model.model().newSession(ids.length)) {
                    logits = s.prefill(ids);
                }
                int[] t = tasks.computeIfAbsent(row.get("task_id").asText(), k -> new int[2]);
                for (int[] r : ranges) {
                    boolean ok = BracketedAnswers.correct(ids, logits, r[0], r[1]);
                    t[0]++;
                    t[1] += ok ? 1 : 0;
                    spans++;
                    correct += ok ? 1 : 0;
                    logProb += BracketedAnswers.logProb(ids, logits, r[0], r[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double macro = tasks.values().stream().mapToDouble(t -> t[1] / (double) t[0]).average().orElse(0);
        return new Eval(macro, correct / (double) spans, logProb / spans, spans);
    }
}
