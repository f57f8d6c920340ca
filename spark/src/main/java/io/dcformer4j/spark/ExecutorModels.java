package io.dcformer4j.spark;

import io.dcformer4j.DCFormer;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;

/**
 * The models of this JVM (an executor, or the driver in local mode): each {@link ModelSpec} is opened once, on
 * first use, and shared by every task and partition that runs here — the weights are read-only and sessions
 * run concurrently on one model. Models are closed, and copied directories deleted, by a shutdown hook (or by
 * {@link #closeAll()}).
 */
public final class ExecutorModels {
    private static final Map<ModelSpec, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();
    private static volatile boolean hookAdded;

    private ExecutorModels() {
    }

    /** A model with the backend and copied directory it owns. */
    private record Loaded(DCFormer model, Backend backend, ModelFiles.LocalModel files) {
    }

    /**
     * The model for {@code spec}, opened on first use.
     *
     * @param conf the Hadoop configuration for remote paths, or null
     */
    static DCFormer get(ModelSpec spec, Configuration conf) {
        Loaded loaded = MODELS.get(spec);
        if (loaded == null) {
            // computeIfAbsent holds the bin while loading, so concurrent tasks wait for one load.
            loaded = MODELS.computeIfAbsent(spec, s -> open(s, conf));
        }
        return loaded.model();
    }

    private static Loaded open(ModelSpec spec, Configuration conf) {
        addShutdownHook();
        ModelFiles.LocalModel files = ModelFiles.localDirectory(spec.path(), conf);
        Backend backend = Backends.open(spec.backend().isEmpty() ? null : spec.backend(),
                BackendOptions.withThreads(spec.threads()));
        try {
            DCFormer model = DCFormer.load(files.directory(), backend);
            LOADS.incrementAndGet();
            return new Loaded(model, backend, files);
        } catch (RuntimeException | Error e) {
            backend.close();
            if (files.copy() != null) {
                ModelFiles.deleteQuietly(files.copy());
            }
            throw e;
        }
    }

    /** How many models this JVM has loaded since it started (for tests and monitoring). */
    public static int loads() {
        return LOADS.get();
    }

    /** Closes every model of this JVM and deletes copied directories; the next use opens them again. */
    public static synchronized void closeAll() {
        List<Loaded> all = new ArrayList<>(MODELS.values());
        MODELS.clear();
        for (Loaded l : all) {
            try {
                l.model().close();
            } finally {
                l.backend().close();
                if (l.files().copy() != null) {
                    ModelFiles.deleteQuietly(l.files().copy());
                }
            }
        }
    }

    private static synchronized void addShutdownHook() {
        if (!hookAdded) {
            Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "dcformer4j-spark-close-models"));
            hookAdded = true;
        }
    }
}
