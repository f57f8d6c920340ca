package io.dcformer4j.cli;

import io.dcformer4j.DCFormer;
import io.dcformer4j.EngineOptions;
import io.dcformer4j.LoadListener;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.Quantization;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Helpers shared by the user-facing subcommands: usage errors, backends, model directories, stdin. */
final class CliSupport {
    private static final long PROGRESS_BAR_MIN_BYTES = 64L << 20;

    private CliSupport() {
    }

    /** A usage error: one line on stderr and exit code 2 through {@link Main}'s handler. */
    static CommandLine.ParameterException usage(CommandSpec spec, String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /**
     * Opens the named backend (null: selection rules) after checking the thread count; a fall-back past a
     * backend that failed to open is one warning line on the command's stderr.
     */
    static Backend openBackend(CommandSpec spec, String name, int threads) {
        if (threads < 0) {
            throw usage(spec, "--threads must be 0 (all processors) or positive, got " + threads);
        }
        PrintWriter err = spec.commandLine().getErr();
        return Backends.selector().withWarnings(line -> {
            err.println(line);
            err.flush();
        }).open(name, BackendOptions.withThreads(threads));
    }

    /** A model directory given on the command line, checked; or the shipped demo model when absent. */
    static Path modelDirectory(CommandSpec spec, Path model, boolean baseline) {
        if (model == null) {
            return DCFormer.demoDirectory(baseline ? "mha" : "dcformer");
        }
        if (baseline) {
            throw usage(spec, "--mha selects the demo baseline and cannot be combined with --model");
        }
        if (!Files.isDirectory(model)) {
            throw usage(spec, "--model " + model + " is not a directory");
        }
        return model;
    }

    /** Loads a model, drawing a progress bar on stderr for checkpoints of 64 MiB or more. */
    static DCFormer load(CommandSpec spec, Path dir, Backend backend) {
        return load(spec, dir, backend, Quantization.NONE);
    }

    /** As {@link #load(CommandSpec, Path, Backend)}, quantizing the projection weights as asked. */
    static DCFormer load(CommandSpec spec, Path dir, Backend backend, Quantization quantization) {
        PrintWriter err = spec.commandLine().getErr();
        boolean[] drew = new boolean[1];
        LoadListener bar = (tensor, done, total) -> {
            if (total < PROGRESS_BAR_MIN_BYTES) {
                return;
            }
            int width = 30;
            int filled = (int) (width * done / Math.max(1, total));
            err.printf(Locale.ROOT, "\rloading %s [%s%s] %3d%% %.2f/%.2f GB", dir.getFileName(), "#".repeat(filled),
                    ".".repeat(width - filled), 100 * done / Math.max(1, total), done / 1e9, total / 1e9);
            err.flush();
            drew[0] = true;
        };
        DCFormer m = DCFormer.load(dir, backend, EngineOptions.defaults().withQuantization(quantization), bar);
        if (drew[0]) {
            err.println();
        }
        return m;
    }

    /** Standard input as UTF-8 lines. */
    static BufferedReader stdin() {
        return new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    }
}
