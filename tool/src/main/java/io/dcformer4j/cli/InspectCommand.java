package io.dcformer4j.cli;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.api.Backends;
import io.dcformer4j.api.DType;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.checkpoint.CheckpointNames;
import io.dcformer4j.model.checkpoint.FiniteCheck;
import io.dcformer4j.model.checkpoint.TensorInfo;
import io.dcformer4j.model.checkpoint.WeightSource;
import io.dcformer4j.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dcformer4j inspect DIR}: what a model directory holds — configuration, parameter count, dtypes,
 * every tensor, and the entries a loader ignores (derived and cache buffers, spec §5.3).
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model directory: configuration, parameter count, dtypes, tensors, ignored entries.")
public final class InspectCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Model directory (config.json and a checkpoint).")
    private Path dir;

    @Option(names = "--no-tensors", description = "Leave out the per-tensor list.")
    private boolean noTensors;

    @Option(names = "--check", description = "Read every weight and name the first NaN or infinite one (exit code 1 when there is one).")
    private boolean check;

    @Override
    public Integer call() throws Exception {
        if (!Files.isDirectory(dir)) {
            throw CliSupport.usage(spec, "DIR " + dir + " is not a directory");
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelConfig config = ModelConfig.load(dir);
        out.println("Model:      " + dir);
        out.println("Config:     " + config);
        StringBuilder layers = new StringBuilder();
        for (int i = 0; i < config.numLayers(); i++) {
            layers.append(config.isLocal(i) ? 'L' : 'G');
        }
        out.println("Layers:     " + layers + (layers.indexOf("L") >= 0
                ? "  (L = local, window " + config.windowSize() + "; G = global)" : "  (all global)"));
        Path tok = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(tok)) {
            Tokenizer t = Tokenizer.load(tok);
            out.println("Tokenizer:  tokenizer.json, " + t.vocabSize() + " ids, " + t.addedTokens().size() + " added tokens");
        } else {
            out.println("Tokenizer:  none (no tokenizer.json)");
        }
        try (WeightSource raw = WeightSource.open(dir); WeightSource used = CheckpointNames.normalize(raw)) {
            SortedMap<String, TensorInfo> all = raw.tensors();
            Map<DType, Long> byType = new TreeMap<>();
            long params = 0;
            for (TensorInfo t : used.tensors().values()) {
                params += t.shape().numel();
                byType.merge(t.dtype(), t.shape().numel(), Long::sum);
            }
            out.println("Checkpoint: " + raw.origin() + ", " + all.size() + " entries");
            out.printf(Locale.ROOT, "Parameters: %,d (%.2f M)%n", params, params / 1e6);
            StringBuilder types = new StringBuilder();
            byType.forEach((k, v) -> types.append(types.isEmpty() ? "" : ", ").append(k).append(' ')
                    .append(String.format(Locale.ROOT, "%,d", v)));
            out.println("DTypes:     " + types);
            int ignored = 0;
            for (TensorInfo t : all.values()) {
                String status = status(t.name(), used);
                if (status.startsWith("ignored")) {
                    ignored++;
                }
                if (!noTensors) {
                    out.printf(Locale.ROOT, "  %-60s %-5s %-20s %s%n", t.name(), t.dtype(), t.shape(), status);
                }
            }
            out.println("Ignored:    " + ignored + " entr" + (ignored == 1 ? "y" : "ies")
                    + " (derived or cache buffers, identity projections)");
            if (check) {
                Optional<FiniteCheck.NonFinite> bad = FiniteCheck.firstNonFinite(raw);
                out.println("Check:      " + bad.map(n -> "NOT FINITE: " + n.describe())
                        .orElse("every weight of all " + all.size() + " entries is finite"));
                out.flush();
                return bad.isPresent() ? Main.EXIT_FAILURE : 0;
            }
        }
        String problem = loadProblem(config);
        out.println("Loads:      " + (problem == null ? "yes (every tensor binds on the cpu backend)" : "NO: " + problem));
        out.flush();
        return problem == null ? 0 : Main.EXIT_FAILURE;
    }

    /**
     * Binds the model on the CPU backend (weights are views of the mapped checkpoint, so this is quick) and
     * returns why it fails, or null; a missing or misshapen tensor is found here, not at the first generate.
     */
    private String loadProblem(ModelConfig config) {
        try (Backend b = Backends.open("cpu", BackendOptions.withThreads(1));
             DCFormerModel m = DCFormerModel.load(dir, config, b)) {
            return null;
        } catch (BackendUnavailableException e) {
            return null; // no cpu backend on this class path: the listing above is all that can be said
        } catch (RuntimeException e) {
            return e.getMessage() == null ? e.toString() : e.getMessage();
        }
    }

    private static String status(String name, WeightSource used) {
        if (used.contains(name)) {
            return "";
        }
        if (name.matches("(.*\\.)?(wq|wk|wv)\\.(weight|bias)")) {
            return "fused into wqkv";
        }
        return "ignored";
    }
}
