import io.dcformer4j.api.AttentionMode;
import io.dcformer4j.api.AttentionSpec;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.api.KvCache;
import io.dcformer4j.api.KvCacheSpec;
import io.dcformer4j.api.Shape;
import io.dcformer4j.api.Tensor;
import io.dcformer4j.bench.BenchPreset;
import io.dcformer4j.bench.DCFormerBenchModels;
import io.dcformer4j.bench.PresetWeights;
import io.dcformer4j.bench.ProcessMemory;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.DecodeBatch;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.Session;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The memory figures of docs/performance.md (batch section), on the CPU backend:
 * <ol>
 * <li>{@code sessions N P}: N sequences of a preset's layers (LGLL: local rings of W+1, global caches of
 * block_size) each holding P positions, stored through attentionPrefill (random rows): the bytes the caches
 * actually took (backend liveBytes) against N caches held whole (KvCacheSpec.fullBytes).</li>
 * <li>{@code resident B C}: the preset's model with random BF16 weights, B sessions prefilled to C positions
 * and stepped together by a DecodeBatch; the process's resident set against weights + live cache pages.</li>
 * </ol>
 * Run from the repository root after {@code ./mvnw -o -q package -DskipTests} (see docs/performance.md).
 */
public class MemoryFigures {
    public static void main(String[] args) {
        BenchPreset preset = BenchPreset.byName(System.getProperty("preset", "medium"));
        switch (args[0]) {
            case "sessions" -> sessions(preset, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "resident" -> resident(preset, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException("sessions N P | resident B C");
        }
    }

    static void sessions(BenchPreset preset, int n, int positions) {
        int heads = preset.heads();
        int d = preset.dim() / heads;
        int rank = BenchPreset.RANK;
        int nd = heads * d;
        int per = 4 * (2 * rank + 1) * heads;
        SplittableRandom rnd = new SplittableRandom(1);
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(1))) {
            float[] rows = new float[positions * Math.max(nd, per)];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = (float) rnd.nextDouble(-1, 1);
            }
            Tensor q = b.fromFloats(DType.F32, Shape.of(positions, nd), java.util.Arrays.copyOf(rows, positions * nd), "q");
            Tensor dyn = b.fromFloats(DType.F32, Shape.of(positions, per), java.util.Arrays.copyOf(rows, positions * per), "dyn");
            Tensor out = b.allocate(DType.F32, Shape.of(positions, nd), "out");
            long before = b.liveBytes();
            long whole = 0;
            List<KvCache> caches = new ArrayList<>();
            for (int s = 0; s < n; s++) {
                for (int l = 0; l < preset.layers(); l++) {
                    boolean local = BenchPreset.WINDOW_TYPE.charAt(l % 4) == 'L';
                    AttentionSpec spec = new AttentionSpec(AttentionMode.DCMHA, heads, d, rank, local ? preset.window() : 0,
                            false, null, null);
                    int capacity = local ? spec.minRingCapacity() : preset.blockSize();
                    KvCache c = b.allocateKvCache(new KvCacheSpec(capacity, heads, d, rank, true));
                    b.attentionPrefill(q, q, q, dyn, c, spec, out);
                    caches.add(c);
                    whole += c.spec().fullBytes();
                }
            }
            long used = b.liveBytes() - before;
            System.out.printf(Locale.ROOT, "%s: %d sequences x %d layers holding %d positions: caches took %,d bytes;"
                    + " held whole (block_size %d) they would take %,d bytes; ratio %.2f %%%n", preset.name(), n,
                    preset.layers(), positions, used, preset.blockSize(), whole, 100.0 * used / whole);
            caches.forEach(KvCache::close);
            q.close();
            dyn.close();
            out.close();
        }
    }

    static void resident(BenchPreset preset, int batch, int context) {
        ModelConfig config = DCFormerBenchModels.config(preset, true);
        boolean peakReset = ProcessMemory.resetPeak();
        try (Backend b = Backends.open("cpu", BackendOptions.defaults());
             PresetWeights w = PresetWeights.generate(preset, true, 7);
             DCFormerModel m = DCFormerModel.create(config, w, b)) {
            SplittableRandom rnd = new SplittableRandom(3);
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                Session s = m.newSession(context + 16);
                s.prefillLast(rnd.ints(context, 0, preset.vocab()).toArray());
                sessions.add(s);
            }
            try (DecodeBatch db = m.newDecodeBatch(batch)) {
                for (int step = 0; step < 8; step++) {
                    db.step(sessions, rnd.ints(batch, 0, preset.vocab()).toArray());
                }
            }
            // a full collection shrinks the heap; G1 gives the freed regions back to the OS in the background
            System.gc();
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long weights = w.totalBytes();
            long caches = m.cacheBudget().inUse();
            long live = b.liveBytes();
            long rss = ProcessMemory.residentBytes();
            long peak = peakReset ? ProcessMemory.peakResidentBytes() : -1;
            Runtime rt = Runtime.getRuntime();
            System.out.printf(Locale.ROOT, "%s: batch %d at %d positions: resident %,d bytes; weights %,d + cache pages %,d"
                    + " = %,d; ratio %.3f; peak resident %,d (%.3f) (backend liveBytes %,d incl. scratch; Java heap committed"
                    + " %,d)%n", preset.name(), batch, context + 8, rss, weights, caches, weights + caches,
                    (double) rss / (weights + caches), peak, (double) peak / (weights + caches), live, rt.totalMemory());
            sessions.forEach(Session::close);
        }
    }
}
