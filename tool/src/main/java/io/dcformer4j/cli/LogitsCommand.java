package io.dcformer4j.cli;

import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.model.DCFormerModel;
import io.dcformer4j.model.ModelConfig;
import io.dcformer4j.model.Quantization;
import io.dcformer4j.model.Session;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dcformer4j logits}: runs a token sequence through a model and writes the logits of every position
 * as a float32 [T, V] {@code .npy}, for checks against reference outputs. With {@code --prefill N} the first
 * N tokens are one prefill call and each further token is one decode step, so the file exercises the caches.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Write the logits [T, vocab] of a token sequence as a float32 .npy file.")
public final class LogitsCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory (config.json and model.safetensors, a sharded index, or pytorch_model.bin).")
    private Path model;

    @Option(names = "--tokens", required = true, paramLabel = "IDS", description = "Token ids separated by commas or spaces, e.g. 3,17,5 or \"3 17 5\" (what tokenize prints).")
    private String tokens;

    @Option(names = "--prefill", paramLabel = "N",
            description = "Prefill the first N tokens in one call, then decode the rest one at a time (default: all in one prefill).")
    private Integer prefill;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output .npy file.")
    private Path out;

    @Option(names = "--quantize", paramLabel = "TYPE", defaultValue = "none", converter = QuantizationConverter.class,
            description = QuantizationConverter.DESCRIPTION)
    private Quantization quantize;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend name (default: -Ddcformer4j.backend, $DCFORMER4J_BACKEND, else the best available).")
    private String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "Worker threads of the backend (default: all processors).")
    private int threads;

    @Override
    public Integer call() throws Exception {
        int[] ids = parseTokens();
        int split = prefill == null ? ids.length : prefill;
        if (split < 0 || split > ids.length) {
            throw usage("--prefill must be between 0 and the number of tokens (" + ids.length + "), got " + split);
        }
        if (threads < 0) {
            throw usage("--threads must be 0 (all processors) or positive, got " + threads);
        }
        if (!Files.isDirectory(model)) {
            throw usage("--model " + model + " is not a directory");
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw usage("--out " + out + ": directory " + parent + " does not exist");
        }
        ModelConfig config = ModelConfig.load(model);
        for (int t = 0; t < ids.length; t++) {
            if (ids[t] < 0 || ids[t] >= config.vocabSize()) {
                throw usage("--tokens: token id " + ids[t] + " at position " + t + " is outside the vocabulary [0, "
                        + config.vocabSize() + ") of " + model);
            }
        }
        if (ids.length > config.blockSize()) {
            throw usage("--tokens: " + ids.length + " tokens exceed block_size " + config.blockSize());
        }
        float[][] rows = new float[ids.length][];
        try (Backend be = Backends.open(backend, BackendOptions.withThreads(threads));
             DCFormerModel m = DCFormerModel.load(model, config, be, quantize);
             Session s = m.newSession(ids.length)) {
            if (split > 0) {
                float[][] first = s.prefill(Arrays.copyOf(ids, split));
                System.arraycopy(first, 0, rows, 0, split);
            }
            for (int t = split; t < ids.length; t++) {
                rows[t] = s.decode(ids[t]);
            }
        }
        NpyWriter.write(out, rows);
        return 0;
    }

    private int[] parseTokens() {
        try {
            int[] ids = TokenList.parse(tokens);
            if (ids.length == 0) {
                throw usage("--tokens: no token ids given");
            }
            return ids;
        } catch (IllegalArgumentException e) {
            throw usage("--tokens: " + e.getMessage());
        }
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
