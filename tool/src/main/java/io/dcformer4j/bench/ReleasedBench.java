package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.Shape;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.Session;
import io.dcformer4j.model.WeightLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Measures a model of a released size with random weights the way a user meets it: the checkpoint is written to
 * disk (sharded safetensors), loaded through the ordinary memory-mapped path, asked for the first token of a
 * prompt, then decoded; the memory bandwidth is measured in the same run, after the model is closed.
 */
public final class ReleasedBench {
    private static final int WARM_UP_STEPS = 2;

    private ReleasedBench() {
    }

    /**
     * What to measure.
     *
     * @param name           what the report calls the model (the preset name)
     * @param configJson     the model's {@code config.json}
     * @param dtype          storage type of the weights on disk (F32, BF16 or F16)
     * @param promptLength   tokens of the prompt whose first token is timed
     * @param decodeSteps    timed decode steps after the prompt
     * @param bandwidthBytes buffer size of the bandwidth probe (well above the last-level cache)
     * @param weightsDir     where the checkpoint goes, kept and reused by later runs; null for a temporary
     *                       directory removed at the end
     * @param seed           seed of the weights and the prompt
     * @param progress       one line per step
     */
    public record Options(String name, String configJson, DType dtype, int promptLength, int decodeSteps,
                          long bandwidthBytes, Path weightsDir, long seed, Consumer<String> progress) {
        /** Checks the sizes. */
        public Options {
            if (promptLength <= 0 || decodeSteps <= 0 || bandwidthBytes <= 0) {
                throw new IllegalArgumentException("bench: prompt length, decode steps and bandwidth buffer must be positive");
            }
        }
    }

    /** Writes (or reuses) the checkpoint, loads it on {@code backend}, and measures. */
    public static ReleasedResult run(Options o, Backend backend) {
        ModelConfig config = ModelConfig.parse(o.configJson(), o.name() + " config");
        int positions = o.promptLength() + WARM_UP_STEPS + o.decodeSteps();
        if (positions > config.blockSize()) {
            throw new IllegalArgumentException("bench: " + o.name() + " has block_size " + config.blockSize()
                    + " but the run needs " + positions + " positions");
        }
        boolean temporary = o.weightsDir() == null;
        Path dir;
        try {
            dir = temporary ? Files.createTempDirectory("dcformer4j-bench-" + o.name()) : o.weightsDir();
        } catch (IOException e) {
            throw new UncheckedIOException("bench: cannot create a temporary directory: " + e.getMessage(), e);
        }
        try {
            RandomCheckpoint.Spec spec = new RandomCheckpoint.Spec(o.configJson(), o.dtype(), o.seed());
            double writeSeconds = -1;
            if (!RandomCheckpoint.holds(dir, spec)) {
                long t0 = System.nanoTime();
                RandomCheckpoint.write(dir, spec, o.progress());
                writeSeconds = (System.nanoTime() - t0) * 1e-9;
            } else {
                o.progress().accept("reusing the random checkpoint in " + dir);
            }
            return measure(o, backend, config, dir, writeSeconds);
        } finally {
            if (temporary) {
                deleteTree(dir);
            }
        }
    }

    private static ReleasedResult measure(Options o, Backend backend, ModelConfig config, Path dir, double writeSeconds) {
        boolean peakReset = ProcessMemory.resetPeak();
        long residentBefore = ProcessMemory.residentBytes();
        int threads = backend.options().resolvedThreads();
        SplittableRandom rnd = new SplittableRandom(o.seed());
        int[] prompt = new int[o.promptLength()]; // [T] token ids
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = rnd.nextInt(config.vocabSize());
        }
        o.progress().accept("loading " + dir + " (memory-mapped)");
        long t0 = System.nanoTime();
        double loadSeconds;
        double firstTokenSeconds;
        double[] steps = new double[o.decodeSteps()];
        long peak;
        try (DCFormerModel model = DCFormerModel.load(dir, backend)) {
            loadSeconds = (System.nanoTime() - t0) * 1e-9;
            try (Session session = model.newSession(o.promptLength() + WARM_UP_STEPS + o.decodeSteps())) {
                o.progress().accept("time to first token, prompt of " + o.promptLength());
                long t1 = System.nanoTime();
                int next = argmax(session.prefillLast(prompt));
                firstTokenSeconds = (System.nanoTime() - t1) * 1e-9;
                for (int s = -WARM_UP_STEPS; s < o.decodeSteps(); s++) {
                    if (s >= 0) {
                        o.progress().accept("decode step " + (s + 1) + "/" + o.decodeSteps());
                    }
                    long t2 = System.nanoTime();
                    next = argmax(session.decode(next));
                    if (s >= 0) {
                        steps[s] = (System.nanoTime() - t2) * 1e-9;
                    }
                }
            }
            peak = peakReset ? ProcessMemory.peakResidentBytes() : -1;
        }
        o.progress().accept("memory bandwidth (" + (o.bandwidthBytes() >> 20) + " MiB, " + threads + " threads)");
        double bandwidth = BandwidthProbe.readGbPerS(o.bandwidthBytes(), threads, 5);
        long weightBytes = weightBytes(config, o.dtype());
        long stepBytes = decodeStepBytes(config, o.dtype(), o.promptLength() + WARM_UP_STEPS + o.decodeSteps() / 2);
        return new ReleasedResult(o.name(), config.toString(), o.dtype(), backend.description(), threads, o.promptLength(),
                writeSeconds, loadSeconds, firstTokenSeconds, 1 / Stats.median(steps), bandwidth, weightBytes, stepBytes,
                residentBefore, peak);
    }

    /** Bytes of every weight as stored. */
    static long weightBytes(ModelConfig config, DType dtype) {
        long n = 0;
        for (Shape s : layout(config).values()) {
            n += s.numel();
        }
        return n * dtype.byteSize();
    }

    /**
     * Bytes one decode step must read at context {@code context}: every weight but the embedding table (one row
     * of it), plus the keys and values attended to, counted at 4 bytes (the CPU backend's F32 caches). The
     * DCMHA key-side compose state (C·N floats per key against 2E for K and V) is left out: under 1 % here.
     */
    static long decodeStepBytes(ModelConfig config, DType dtype, int context) {
        long weights = 0;
        for (var e : layout(config).entrySet()) {
            Shape s = e.getValue();
            weights += e.getKey().equals("tok_embeddings.weight") ? s.dim(-1) : s.numel();
        }
        long kv = 0;
        for (int l = 0; l < config.numLayers(); l++) {
            int keys = config.isLocal(l) ? Math.min(context, config.window(l)) : context;
            kv += 2L * keys * config.numHeads() * config.headDim() * Float.BYTES;
        }
        return weights * dtype.byteSize() + kv;
    }

    private static java.util.SortedMap<String, Shape> layout(ModelConfig config) {
        return WeightLayout.expected(config, config.defaultComposeRank(), config.defaultComposeHidden());
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("bench: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
