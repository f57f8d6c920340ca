package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * {@code bench --op-times}: where a decode step's wall-clock time goes, operation by operation, for the DCMHA
 * model and its plain-MHA twin. Each model prefills {@code context} tokens, decodes a few untimed steps (the JIT
 * and the caches settle), then decodes {@code steps} steps with every backend operation timed.
 */
public final class OpTimesRun {
    private static final int WARM_UP_STEPS = 16;

    /** One model's breakdown: milliseconds per step in total and per operation. */
    public record Breakdown(boolean dcmha, double stepMs, List<OpTimes.Row> rows, int steps) {
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

    /** Runs both models of {@code preset} on {@code backend}. */
    public static List<Breakdown> run(BenchPreset preset, Backend backend, BenchModelFactory models, int context, int steps,
                                      Consumer<String> progress) {
        if (context < 1 || context + WARM_UP_STEPS + steps > preset.blockSize()) {
            throw new IllegalArgumentException("bench --op-times: context " + context + " plus " + (WARM_UP_STEPS + steps)
                    + " steps must fit the preset's block size " + preset.blockSize());
        }
        return List.of(one(preset, true, backend, models, context, steps, progress),
                one(preset, false, backend, models, context, steps, progress));
    }

    private static Breakdown one(BenchPreset preset, boolean dcmha, Backend backend, BenchModelFactory models, int context,
                                 int steps, Consumer<String> progress) {
        String name = preset.name() + ": " + (dcmha ? "DCMHA" : "MHA");
        progress.accept(name + ": generating weights");
        OpTimes times = new OpTimes();
        try (BenchModel model = models.open(preset, dcmha, times.wrap(backend), 1);
             BenchModel.Sequence seq = model.newSequence(context + WARM_UP_STEPS + steps)) {
            int[] prompt = new int[context];
            for (int i = 0; i < context; i++) {
                prompt[i] = 1 + (int) ((i * 7919L) % (preset.vocab() - 1));
            }
            progress.accept(name + ": prefill " + context);
            seq.prefill(prompt);
            for (int i = 0; i < WARM_UP_STEPS; i++) {
                seq.decode(1 + i % (preset.vocab() - 1));
            }
            progress.accept(name + ": " + steps + " timed decode steps");
            times.start();
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                seq.decode(1 + (i * 31) % (preset.vocab() - 1));
            }
            double stepMs = (System.nanoTime() - t0) / 1e6 / steps;
            times.stop();
            return new Breakdown(dcmha, stepMs, times.rows(), steps);
        }
    }

    /** The table: one block per model, an operation per line with ms per step, share, calls per step. */
    public static String table(BenchPreset preset, int context, List<Breakdown> all) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "preset %s: decode after %d tokens, wall-clock per operation (ms per step)%n",
                preset.name(), context));
        for (Breakdown d : all) {
            b.append(String.format(Locale.ROOT, "%n%s: %.2f ms per step (%.2f tokens/s)%n", d.dcmha() ? "DCMHA" : "MHA",
                    d.stepMs(), 1000 / d.stepMs()));
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
