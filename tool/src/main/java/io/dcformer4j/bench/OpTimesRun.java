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
 * timed: one sequence alone, or all of them stepped together as one batch. The two models' steps alternate, as
 * in the rest of {@code bench}: a model timed after the other would meet a JIT that had compiled more of the
 * shared decode path, and a change of load would hit one model only (a 32-step run timed one after the other
 * showed the first model's projections 15–20 % slower than the second's, the same code on the same weights).
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
        OpTimes[] times = {new OpTimes(), new OpTimes()};
        String[] names = {preset.name() + ": DCMHA", preset.name() + ": MHA"};
        progress.accept(names[0] + ": generating weights");
        try (BenchModel dcmha = models.open(preset, true, times[0].wrap(backend), 1)) {
            progress.accept(names[1] + ": generating weights");
            try (BenchModel mha = models.open(preset, false, times[1].wrap(backend), 1)) {
                BenchModel[] both = {dcmha, mha};
                List<List<BenchModel.Sequence>> seqs = List.of(new ArrayList<>(), new ArrayList<>());
                try {
                    for (int m = 0; m < 2; m++) {
                        prefill(both[m], seqs.get(m), names[m], preset, context, steps, batch, progress);
                    }
                    try (BenchModel.Batch stepA = batch > 1 ? dcmha.newBatch(batch) : null;
                         BenchModel.Batch stepB = batch > 1 ? mha.newBatch(batch) : null) {
                        BenchModel.Batch[] step = {stepA, stepB};
                        int[] tokens = new int[batch];
                        for (int i = 0; i < WARM_UP_STEPS; i++) {
                            for (int m = 0; m < 2; m++) {
                                decode(seqs.get(m), step[m], tokens, i, preset.vocab());
                            }
                        }
                        progress.accept(preset.name() + ": " + steps + " timed decode steps of each model, alternating"
                                + (batch > 1 ? ", " + batch + " sequences per step" : ""));
                        long[] nanos = new long[2];
                        for (int i = 0; i < steps; i++) {
                            for (int m = 0; m < 2; m++) {
                                times[m].start();
                                long t0 = System.nanoTime();
                                decode(seqs.get(m), step[m], tokens, WARM_UP_STEPS + i, preset.vocab());
                                nanos[m] += System.nanoTime() - t0;
                                times[m].stop();
                            }
                        }
                        return List.of(new Breakdown(true, batch, nanos[0] / 1e6 / steps, times[0].rows(), steps),
                                new Breakdown(false, batch, nanos[1] / 1e6 / steps, times[1].rows(), steps));
                    }
                } finally {
                    for (List<BenchModel.Sequence> list : seqs) {
                        for (BenchModel.Sequence s : list) {
                            s.close();
                        }
                    }
                }
            }
        }
    }

    /** Opens {@code batch} sequences of {@code model} into {@code seqs} and prefills each with {@code context} tokens. */
    private static void prefill(BenchModel model, List<BenchModel.Sequence> seqs, String name, BenchPreset preset, int context,
                                int steps, int batch, Consumer<String> progress) {
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
