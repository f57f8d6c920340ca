package io.dcformer4j.cli;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.bench.BenchEngine;
import io.dcformer4j.bench.BenchOptions;
import io.dcformer4j.bench.BenchPreset;
import io.dcformer4j.bench.BenchReport;
import io.dcformer4j.bench.BenchResult;
import io.dcformer4j.bench.DCFormerBenchModels;
import io.dcformer4j.bench.OpTimesRun;
import io.dcformer4j.bench.ReleasedBench;
import io.dcformer4j.bench.ReleasedResult;
import io.dcformer4j.bench.ReleasedShape;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dcformer4j bench}: prefill and decode speed of a preset model with random weights, for DCFormer++
 * and its plain-MHA baseline, next to the machine's limits measured in the same run (memory bandwidth, the
 * backend's GEMM rate, optionally OpenBLAS) and the ratios between them.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill/decode tokens/s of a preset model (random weights) against the machine's limits.")
public final class BenchCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "small (E 512, 8 heads, 8 layers), medium (E 1024, 16 heads, 24 layers), pytorch-ref "
                    + "(E 1024, 16 heads, 8 layers, F32: the shape the official PyTorch code was timed at), tiny, or a "
                    + "released model's shape: dcformer-2.8b, dcpythia-6.9b (random weights written to disk as a sharded "
                    + "checkpoint and loaded memory-mapped; reports load time, time to first token, decode against the "
                    + "bandwidth floor and peak resident memory).")
    private String preset;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend name (default: -Ddcformer4j.backend, $DCFORMER4J_BACKEND, else the best available).")
    private String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Worker threads of the backend and of the probes (default: all processors).")
    private int threads;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    private boolean json;

    @Option(names = "--json-out", paramLabel = "FILE", description = "Also write the JSON object to FILE (the table still goes to stdout).")
    private Path jsonOut;

    @Option(names = "--vs-blas", description = "Also time OpenBLAS cblas_sgemm at the same GEMM shapes, when installed.")
    private boolean vsBlas;

    @Option(names = "--quick", description = "One repetition, fewer decode steps, shorter GEMM probes (the bandwidth buffer stays 1 GiB: a smaller one fits the last-level cache of some machines and reads twice the memory's bandwidth).")
    private boolean quick;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Weight storage type instead of the preset's: F32, BF16, F16 or Q8_0 (BF16 weights whose "
            + "layer projections are quantized at load, as --quantize q8_0 does).")
    private String dtype;

    @Option(names = "--layers", paramLabel = "L", description = "Number of layers instead of the preset's.")
    private Integer layers;

    @Option(names = "--prefill", paramLabel = "T", split = ",",
            description = "Prompt lengths to time (default 128,512,1024).")
    private List<Integer> prefill;

    @Option(names = "--decode", paramLabel = "CTX", split = ",",
            description = "Context lengths after which decode steps are timed (default 512,2048).")
    private List<Integer> decode;

    @Option(names = "--decode-steps", paramLabel = "N", description = "Decode steps timed per context (default 32, quick 8).")
    private Integer decodeSteps;

    @Option(names = "--batch", paramLabel = "B", split = ",",
            description = "Also time batched decode: B sequences stepped together after the smallest --decode context "
                    + "(default 512), for each B (1 to 64), e.g. --batch 1,4,8,16; reports aggregate tokens/s, per-sequence "
                    + "step latency and both against batch 1.")
    private List<Integer> batch;

    @Option(names = "--prompt-length", paramLabel = "T",
            description = "Released shapes: prompt length of the time-to-first-token measurement (default 512).")
    private Integer promptLength;

    @Option(names = "--weights-dir", paramLabel = "DIR",
            description = "Released shapes: write the random checkpoint to DIR and keep it; a later run with the same "
                    + "shape, dtype and layers reuses it (default: a temporary directory, removed afterwards).")
    private Path weightsDir;

    @Option(names = "--op-times", description = "Instead of the full run: where a decode step's time goes. For the DCMHA "
            + "model and its plain-MHA twin, prefill the first --decode context (default 512), then time every backend "
            + "operation over --decode-steps steps (default 32) and print milliseconds per step per operation (linear by "
            + "its weight shape) and the time outside them; with one --batch size B, B sequences stepped together.")
    private boolean opTimes;

    @Option(names = "--bandwidth-mib", paramLabel = "MIB",
            description = "Size of the streaming-read buffer of the bandwidth probe (default 1024; 2048 for the released shapes); keep it at least 4x the last-level cache.")
    private Integer bandwidthMib;

    @Override
    public Integer call() {
        java.util.Optional<ReleasedShape> released = ReleasedShape.byName(preset);
        if (released.isPresent()) {
            return callReleased(released.get());
        }
        if (promptLength != null || weightsDir != null) {
            throw usage("--prompt-length and --weights-dir apply to the released shapes " + ReleasedShape.names() + " only");
        }
        BenchPreset p = preset();
        if (threads < 0) {
            throw usage("--threads must be 0 (all processors) or positive, got " + threads);
        }
        PrintWriter err = spec.commandLine().getErr();
        boolean terminal = System.console() != null && System.console().isTerminal();
        Consumer<String> progress = line -> {
            if (terminal) {
                err.print("\r" + String.format(Locale.ROOT, "%-100s", line));
            } else {
                err.println(line);
            }
            err.flush();
        };
        if (opTimes) {
            return callOpTimes(p, progress, terminal, err);
        }
        BenchOptions o = BenchOptions.standard(p, quick, vsBlas, progress);
        if (prefill != null || decode != null || decodeSteps != null) {
            o = o.withLengths(prefill != null ? prefill : o.prefillLengths(), decode != null ? decode : o.decodeContexts(),
                    decodeSteps != null ? decodeSteps : o.decodeSteps());
        }
        if (batch != null) {
            if (batch.stream().anyMatch(b -> b < 1 || b > 64)) {
                throw usage("--batch sizes must be in [1, 64], got " + batch);
            }
            o = o.withBatchSizes(batch);
        }
        if (bandwidthMib != null) {
            if (bandwidthMib <= 0) {
                throw usage("--bandwidth-mib must be positive, got " + bandwidthMib);
            }
            o = o.withProbes((long) bandwidthMib << 20, o.probeSeconds());
        }
        BenchResult result;
        try (Backend be = Backends.open(backend, BackendOptions.withThreads(threads))) {
            result = new BenchEngine(o, be, new DCFormerBenchModels()).run();
        } finally {
            if (terminal) {
                err.println();
            }
        }
        if (jsonOut != null) {
            try {
                Files.writeString(jsonOut, BenchReport.toJson(result) + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("bench: cannot write --json-out " + jsonOut + ": " + e.getMessage(), e);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? BenchReport.toJson(result) + "\n" : BenchReport.toTable(result));
        out.flush();
        return 0;
    }

    /** {@code bench --op-times}: see {@link OpTimesRun}. */
    private Integer callOpTimes(BenchPreset p, Consumer<String> progress, boolean terminal, PrintWriter err) {
        if (json || jsonOut != null || vsBlas || prefill != null) {
            throw usage("--op-times prints its own table: --json, --json-out, --vs-blas and --prefill do not apply");
        }
        if (batch != null && batch.size() != 1) {
            throw usage("--op-times takes one --batch size, got " + batch);
        }
        int context = decode != null ? decode.get(0) : 512;
        int steps = decodeSteps != null ? decodeSteps : 32;
        if (steps < 1) {
            throw usage("--decode-steps must be positive, got " + steps);
        }
        java.util.List<OpTimesRun.Breakdown> all;
        try (Backend be = Backends.open(backend, BackendOptions.withThreads(threads))) {
            all = OpTimesRun.run(p, be, new DCFormerBenchModels(), context, steps, batch == null ? 1 : batch.get(0), progress);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } finally {
            if (terminal) {
                err.println();
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(OpTimesRun.table(p, context, all));
        out.flush();
        return 0;
    }

    /** {@code bench --preset dcformer-2.8b|dcpythia-6.9b}: see {@link ReleasedBench}. */
    private Integer callReleased(ReleasedShape shape) {
        if (vsBlas || prefill != null || decode != null || batch != null) {
            throw usage("--vs-blas, --prefill, --decode and --batch do not apply to the released shape " + shape.presetName()
                    + " (it times one prompt and its decode: --prompt-length, --decode-steps)");
        }
        if (threads < 0) {
            throw usage("--threads must be 0 (all processors) or positive, got " + threads);
        }
        DType d = DType.BF16;
        if (dtype != null) {
            try {
                d = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw usage("--dtype must be F32, BF16, F16 or Q8_0 for " + shape.presetName() + ", got '" + dtype + "'");
            }
            if (d != DType.F32 && d != DType.BF16 && d != DType.F16 && d != DType.Q8_0) {
                throw usage("--dtype must be F32, BF16, F16 or Q8_0 for " + shape.presetName() + ", got '" + dtype + "'");
            }
        }
        int prompt = promptLength != null ? promptLength : 512;
        int steps = decodeSteps != null ? decodeSteps : quick ? 4 : 16;
        long bandwidth = bandwidthMib != null ? (long) bandwidthMib << 20 : 2048L << 20;
        if (prompt <= 0 || steps <= 0 || bandwidth <= 0) {
            throw usage("--prompt-length, --decode-steps and --bandwidth-mib must be positive");
        }
        String config;
        try {
            config = layers != null ? shape.configJson(layers) : shape.configJson();
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        PrintWriter err = spec.commandLine().getErr();
        Consumer<String> progress = line -> {
            err.println(line);
            err.flush();
        };
        ReleasedBench.Options o = new ReleasedBench.Options(shape.presetName(), config, d, prompt, steps, bandwidth,
                weightsDir, 42, progress);
        ReleasedResult result;
        try (Backend be = Backends.open(backend, BackendOptions.withThreads(threads))) {
            result = ReleasedBench.run(o, be);
        }
        if (jsonOut != null) {
            try {
                Files.writeString(jsonOut, result.toJson() + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException("bench: cannot write --json-out " + jsonOut + ": " + e.getMessage(), e);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(json ? result.toJson() + "\n" : result.toTable());
        out.flush();
        return 0;
    }

    private BenchPreset preset() {
        BenchPreset p;
        try {
            p = BenchPreset.byName(preset);
        } catch (IllegalArgumentException e) {
            throw usage("--preset: " + e.getMessage());
        }
        DType d = p.weightDType();
        if (dtype != null) {
            try {
                d = DType.valueOf(dtype.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw usage("--dtype must be F32, BF16, F16 or Q8_0, got '" + dtype + "'");
            }
            if (!d.isFloating() && d != DType.Q8_0) {
                throw usage("--dtype must be F32, BF16, F16 or Q8_0, got '" + dtype + "'");
            }
        }
        if (layers != null && layers <= 0) {
            throw usage("--layers must be positive, got " + layers);
        }
        for (List<Integer> list : java.util.Arrays.asList(prefill, decode)) {
            if (list != null && list.stream().anyMatch(t -> t <= 0)) {
                throw usage("--prefill and --decode lengths must be positive, got " + list);
            }
        }
        return p.with(d, p.blockSize(), layers != null ? layers : p.layers());
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
