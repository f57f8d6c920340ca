package io.dcformer4j.bench;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Runs the end-to-end performance measurements on one backend: prefill and decode speed of DCFormer++ and of its
 * plain-MHA baseline, then the limits in the same process (memory bandwidth, our GEMM rate, optionally
 * OpenBLAS).
 */
public final class BenchEngine {
    private static final int WARM_UP_STEPS = 2;
    private static final String[] KINDS = {"DCMHA", "MHA"};
    private final BenchOptions options;
    private final Backend backend;
    private final BenchModelFactory factory;

    /**
     * @param options what to measure
     * @param backend where the models and the GEMM probe run (its thread count is used for the probes)
     * @param factory builds the models
     */
    public BenchEngine(BenchOptions options, Backend backend, BenchModelFactory factory) {
        this.options = options;
        this.backend = backend;
        this.factory = factory;
    }

    /** Measures everything. */
    public BenchResult run() {
        BenchPreset preset = options.preset();
        if (options.positionsNeeded() > preset.blockSize()) {
            throw new IllegalArgumentException("bench: preset " + preset.name() + " has block_size " + preset.blockSize()
                    + " but the run needs " + options.positionsNeeded() + " positions");
        }
        int threads = backend.options().resolvedThreads();
        // The models run first, so that their resident set is not inflated by what the probes leave behind
        // (OpenBLAS keeps its buffer pool, the allocator keeps freed blocks).
        ModelTiming[] timings = timeModels();
        ModelTiming dcmha = timings[0];
        ModelTiming mha = timings[1];
        BatchTiming batch = options.batchSizes().isEmpty() ? null : timeBatches();

        progress("memory bandwidth (" + (options.bandwidthBytes() >> 20) + " MiB, " + threads + " threads)");
        double bandwidth = BandwidthProbe.readGbPerS(options.bandwidthBytes(), threads, options.reps() < 3 ? 3 : 5);

        progress("FMA peak (" + threads + " threads)");
        double fmaPeak = FmaPeakProbe.gflops(threads, options.probeSeconds(), 3);

        List<GemmShape> shapes = gemmShapes();
        List<GemmResult> gemm = new ArrayList<>();
        for (GemmShape s : shapes) {
            progress("GEMM " + s + " " + preset.weightDType());
            gemm.add(new GemmResult(s, preset.weightDType(), GemmProbe.gflops(backend, s, preset.weightDType(), 3,
                    options.probeSeconds())));
        }
        BlasComparison blas = options.vsBlas() ? compareWithBlas(shapes, gemm, threads)
                : BlasComparison.skipped("not requested (--vs-blas)");
        return new BenchResult(preset, backend.description(), threads, bandwidth, fmaPeak, gemm, blas, dcmha, mha, batch);
    }

    /** The prefill GEMM shapes: every linear of a layer at the middle prefill length. */
    List<GemmShape> gemmShapes() {
        List<Integer> ts = options.prefillLengths();
        int m = ts.isEmpty() ? 512 : ts.contains(512) ? 512 : ts.get(ts.size() / 2);
        List<GemmShape> list = new ArrayList<>();
        for (int[] nk : options.preset().gemmShapes()) {
            list.add(new GemmShape(m, nk[0], nk[1]));
        }
        return list;
    }

    private BlasComparison compareWithBlas(List<GemmShape> shapes, List<GemmResult> gemm, int threads) {
        Optional<OpenBlas> found = OpenBlas.find(options.blasCandidates());
        if (found.isEmpty()) {
            return BlasComparison.skipped("OpenBLAS not found (looked for " + options.blasCandidates()
                    + "); install libopenblas-dev to compare GEMM with cblas_sgemm");
        }
        try (OpenBlas blas = found.get()) {
            blas.setThreads(threads);
            List<GemmResult> theirs = new ArrayList<>();
            List<GemmResult> ours = new ArrayList<>();
            for (GemmShape s : shapes) {
                progress("OpenBLAS cblas_sgemm " + s);
                theirs.add(new GemmResult(s, DType.F32, blas.gflops(s, 3, options.probeSeconds())));
                if (options.preset().weightDType() == DType.F32) {
                    ours.add(gemm.get(shapes.indexOf(s)));
                } else {
                    progress("GEMM " + s + " F32");
                    ours.add(new GemmResult(s, DType.F32, GemmProbe.gflops(backend, s, DType.F32, 3, options.probeSeconds())));
                }
            }
            return new BlasComparison(blas.library(), "cblas_sgemm from " + blas.library() + " (" + blas.coreType()
                    + " kernels), " + threads + " threads", theirs, ours);
        }
    }

    /**
     * Times both models with their measurements interleaved (DCMHA then MHA for every repetition and every
     * decode step), so that a change of load on a shared machine affects both alike and their ratio holds.
     * Both models are resident together; the memory figures are taken at the longest context with both
     * sequences open.
     */
    private ModelTiming[] timeModels() {
        boolean peakReset = ProcessMemory.resetPeak();
        SplittableRandom rnd = new SplittableRandom(options.seed());
        int vocab = options.preset().vocab();
        List<SortedMap<Integer, Double>> prefill = List.of(new TreeMap<>(), new TreeMap<>());
        List<SortedMap<Integer, Double>> decode = List.of(new TreeMap<>(), new TreeMap<>());
        long backendBytes = 0;
        long resident = -1;
        long peak = -1;
        progress("generating random weights (DCMHA and MHA)");
        try (BenchModel dcmha = factory.open(options.preset(), true, backend, options.seed());
             BenchModel mha = factory.open(options.preset(), false, backend, options.seed())) {
            BenchModel[] models = {dcmha, mha};
            for (int m = 0; m < 2; m++) {
                warmUp(models[m], KINDS[m], rnd);
            }
            for (int t : options.prefillLengths()) {
                int[] tokens = tokens(rnd, t);
                double[][] secs = new double[2][options.reps()];
                for (int r = 0; r < options.reps(); r++) {
                    for (int m = 0; m < 2; m++) {
                        progress(KINDS[m] + ": prefill T=" + t + " (" + (r + 1) + "/" + options.reps() + ")");
                        try (BenchModel.Sequence seq = models[m].newSequence()) {
                            long t0 = System.nanoTime();
                            seq.prefill(tokens);
                            secs[m][r] = (System.nanoTime() - t0) * 1e-9;
                        }
                    }
                }
                for (int m = 0; m < 2; m++) {
                    prefill.get(m).put(t, t / Stats.median(secs[m]));
                }
            }
            int longest = options.decodeContexts().stream().mapToInt(Integer::intValue).max().orElse(-1);
            for (int ctx : options.decodeContexts()) {
                int[] context = tokens(rnd, ctx);
                try (BenchModel.Sequence a = dcmha.newSequence(); BenchModel.Sequence b = mha.newSequence()) {
                    BenchModel.Sequence[] seqs = {a, b};
                    double[][] secs = new double[2][options.decodeSteps()];
                    for (int m = 0; m < 2; m++) {
                        progress(KINDS[m] + ": prefill to context " + ctx + " for decode");
                        seqs[m].prefill(context);
                        seqs[m].decode(rnd.nextInt(vocab)); // first step after a prefill: not timed
                    }
                    for (int i = 0; i < options.decodeSteps(); i++) {
                        progress("decode after " + ctx + " tokens (" + (i + 1) + "/" + options.decodeSteps() + ")");
                        int token = rnd.nextInt(vocab);
                        for (int m = 0; m < 2; m++) {
                            long t0 = System.nanoTime();
                            seqs[m].decode(token);
                            secs[m][i] = (System.nanoTime() - t0) * 1e-9;
                        }
                    }
                    for (int m = 0; m < 2; m++) {
                        decode.get(m).put(ctx, 1 / Stats.median(secs[m]));
                    }
                    if (ctx == longest) {
                        // A full collection shrinks the Java heap, so the resident set is not inflated by garbage
                        // that the collector would have given back anyway.
                        System.gc();
                        backendBytes = backend.liveBytes();
                        resident = ProcessMemory.residentBytes();
                        peak = peakReset ? ProcessMemory.peakResidentBytes() : -1;
                    }
                }
            }
        }
        return new ModelTiming[] {
            new ModelTiming(prefill.get(0), decode.get(0), backendBytes, resident, peak),
            new ModelTiming(prefill.get(1), decode.get(1), backendBytes, resident, peak)};
    }

    /**
     * Batched decode of the DCMHA model: max(B) sequences are prefilled to the batch context, then every timed
     * step runs each batch size in turn over the first B of them (interleaved, so that a change of load on a
     * shared machine affects all sizes alike and the ratios to batch 1 hold). Each sequence advances by one
     * position per step it is in, so the contexts drift by at most {@link BenchOptions#batchPositions()}.
     */
    private BatchTiming timeBatches() {
        List<Integer> sizes = options.batchSizes();
        int max = sizes.stream().mapToInt(Integer::intValue).max().orElseThrow();
        int context = options.batchContext();
        int vocab = options.preset().vocab();
        SplittableRandom rnd = new SplittableRandom(options.seed() + 1);
        progress("batched decode: generating random weights");
        try (BenchModel model = factory.open(options.preset(), true, backend, options.seed())) {
            List<BenchModel.Sequence> seqs = new ArrayList<>();
            try (BenchModel.Batch batch = model.newBatch(max)) {
                if (batch == null) {
                    throw new IllegalStateException("bench: this engine cannot run batched decode steps");
                }
                for (int i = 0; i < max; i++) {
                    progress("batched decode: prefill sequence " + (i + 1) + "/" + max + " to context " + context);
                    BenchModel.Sequence s = model.newSequence(context + options.batchPositions() + 1);
                    seqs.add(s);
                    s.prefill(tokens(rnd, context));
                }
                for (int b : sizes) {
                    progress("batched decode: warm-up B=" + b);
                    batch.step(seqs.subList(0, b), tokens(rnd, b)); // not timed
                }
                double[][] secs = new double[sizes.size()][options.decodeSteps()];
                for (int i = 0; i < options.decodeSteps(); i++) {
                    for (int k = 0; k < sizes.size(); k++) {
                        int b = sizes.get(k);
                        progress("batched decode: B=" + b + " step " + (i + 1) + "/" + options.decodeSteps());
                        int[] tok = tokens(rnd, b);
                        long t0 = System.nanoTime();
                        batch.step(seqs.subList(0, b), tok);
                        secs[k][i] = (System.nanoTime() - t0) * 1e-9;
                    }
                }
                SortedMap<Integer, Double> median = new TreeMap<>();
                for (int k = 0; k < sizes.size(); k++) {
                    median.put(sizes.get(k), Stats.median(secs[k]));
                }
                return new BatchTiming(context, options.decodeSteps(), median);
            } finally {
                for (BenchModel.Sequence s : seqs) {
                    s.close();
                }
            }
        }
    }

    /**
     * One untimed prefill and {@value #WARM_UP_STEPS} decode steps, so that the first timed call does not pay
     * for JIT compilation (the model timed first would otherwise pay for the kernels both share).
     */
    private void warmUp(BenchModel model, String kind, SplittableRandom rnd) {
        progress(kind + ": warm-up");
        int t = options.prefillLengths().stream().mapToInt(Integer::intValue).min().orElse(WARM_UP_STEPS);
        try (BenchModel.Sequence seq = model.newSequence()) {
            seq.prefill(tokens(rnd, t));
            for (int i = 0; i < WARM_UP_STEPS; i++) {
                seq.decode(rnd.nextInt(options.preset().vocab()));
            }
        }
    }

    private int[] tokens(SplittableRandom rnd, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = rnd.nextInt(options.preset().vocab());
        }
        return t;
    }

    private void progress(String line) {
        options.progress().accept(options.preset().name() + ": " + line);
    }
}
