package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code bench --op-times}: where a decode step's wall-clock time goes, operation by operation, for the DCMHA
 * model and its plain-MHA twin. Each model prefills {@code batch} sequences of {@code context} tokens, decodes a few
 * untimed steps (the JIT and the caches settle), then decodes {@code steps} steps with every backend operation
 * timed: one sequence alone, or all of them stepped together as one batch.
 */
public final class OpTimesRun {
    private static final int WARM_UP_STEPS = 16;

    /** One model's breakdown: milliseconds per step in total and per operation. */
    public record Breakdown(boolean dcmha, int batch, double stepMs, List<OpTimes.Row> rows, int steps) {
        /** Milliseconds per step spent in {@code row}. */
        public double msPerStep(OpTimes.Row row) {
            return row.nanos() / 1e6 / steps;
        }

        /** Milliseconds per step outside every timed operation (sampling-free model code, hand-overs). */
        public double outsideMs() {
            return stepMs - rows.stream().mapToDouble(this::msPerStep).sum();
        }
    }

    private OpTimesRun() {
    }

    /** Runs both models of {@code preset} on {@code backend}, {@code batch} sequences stepped together (1: alone). */
    public static List<Breakdown> run(BenchPreset preset, Backend backend, BenchModelFactory models, int context, int steps,
                                      int batch, Consumer<String> progress) {
        if (context < 1 || context + WARM_UP_STEPS + steps > preset.blockSize()) {
            throw new IllegalArgumentException("bench --op-times: context " + context + " plus " + (WARM_UP_STEPS + steps)
                    + " steps must fit the preset's block size " + preset.blockSize());
        }
        if (batch < 1 || batch > 64) {
            throw new IllegalArgumentException("bench --op-times: the batch must be in [1, 64], got " + batch);
        }
        return List.of(one(preset, true, backend, models, context, steps, batch, progress),
                one(preset, false, backend, models, context, steps, batch, progress));
    }

    private static Breakdown one(BenchPreset preset, boolean dcmha, Backend backend, BenchModelFactory models, int context,
                                 int steps, int batch, Consumer<String> progress) {
        String name = preset.name() + ": " + (dcmha ? "DCMHA" : "MHA");
        progress.accept(name + ": generating weights");
        OpTimes times = new OpTimes();
        List<BenchModel.Sequence> seqs = new ArrayList<>();
        try (BenchModel model = models.open(preset, dcmha, times.wrap(backend), 1)) {
            try {
                for (int b = 0; b < batch; b++) {
                    BenchModel.Sequence seq = model.newSequence(context + WARM_UP_STEPS + steps);
                    seqs.add(seq);
                    int[] prompt = new int[context];
                    for (int i = 0; i < context; i++) {
                        prompt[i] = 1 + (int) ((i * 7919L + b * 104729L) % (preset.vocab() - 1));
                    }
                    progress.accept(name + ": prefill " + context + (batch > 1 ? " (sequence " + (b + 1) + " of " + batch + ")" : ""));
                    seq.prefill(prompt);
                }
                try (BenchModel.Batch step = batch > 1 ? model.newBatch(batch) : null) {
                    int[] tokens = new int[batch];
                    for (int i = 0; i < WARM_UP_STEPS; i++) {
                        decode(seqs, step, tokens, i, preset.vocab());
                    }
                    progress.accept(name + ": " + steps + " timed decode steps" + (batch > 1 ? " of " + batch + " sequences" : ""));
                    times.start();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < steps; i++) {
                        decode(seqs, step, tokens, WARM_UP_STEPS + i, preset.vocab());
                    }
                    double stepMs = (System.nanoTime() - t0) / 1e6 / steps;
                    times.stop();
                    return new Breakdown(dcmha, batch, stepMs, times.rows(), steps);
                }
            } finally {
                for (BenchModel.Sequence s : seqs) {
                    s.close();
                }
            }
        }
    }

    private static void decode(List<BenchModel.Sequence> seqs, BenchModel.Batch step, int[] tokens, int i, int vocab) {
        for (int b = 0; b < tokens.length; b++) {
            tokens[b] = 1 + (i * 31 + b) % (vocab - 1);
        }
        if (step == null) {
            seqs.get(0).decode(tokens[0]);
        } else {
            step.step(seqs, tokens);
        }
    }

    /** The table: one block per model, an operation per line with ms per step, share, calls per step. */
    public static String table(BenchPreset preset, int context, List<Breakdown> all) {
        StringBuilder b = new StringBuilder();
        int batch = all.get(0).batch();
        b.append(String.format(Locale.ROOT, "preset %s: decode after %d tokens%s, wall-clock per operation (ms per step)%n",
                preset.name(), context, batch > 1 ? ", " + batch + " sequences per step" : ""));
        for (Breakdown d : all) {
            b.append(String.format(Locale.ROOT, "%n%s: %.2f ms per step (%.2f tokens/s%s)%n", d.dcmha() ? "DCMHA" : "MHA",
                    d.stepMs(), 1000 / d.stepMs(), d.batch() > 1
                            ? String.format(Locale.ROOT, " per sequence, %.2f in all", d.batch() * 1000 / d.stepMs()) : ""));
            for (OpTimes.Row r : d.rows()) {
                double ms = d.msPerStep(r);
                b.append(String.format(Locale.ROOT, "  %8.3f  %5.1f %%  %5d calls  %s%n", ms, 100 * ms / d.stepMs(),
                        r.calls() / d.steps(), r.op()));
            }
            b.append(String.format(Locale.ROOT, "  %8.3f  %5.1f %%               outside the operations%n", d.outsideMs(),
                    100 * d.outsideMs() / d.stepMs()));
        }
        return b.toString();
    }
}
