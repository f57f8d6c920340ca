package io.dcformer4j.cli;

import io.dcformer4j.model.Quantization;
import io.dcformer4j.model.checkpoint.CheckpointConverter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dcformer4j convert}: a PyTorch {@code .bin} (or any readable checkpoint) to one {@code model.safetensors}. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a checkpoint (pytorch_model*.bin, sharded or not, or safetensors) into "
                + "DIR/model.safetensors, copying config.json and tokenizer files beside it.")
public final class ConvertCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--in", required = true, paramLabel = "PATH", description = "Input checkpoint file or directory.")
    private Path in;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory.")
    private Path out;

    @Option(names = "--allow-non-finite",
            description = "Write the output even when a weight is NaN or infinite (by default the first one is named and nothing is written).")
    private boolean allowNonFinite;

    @Option(names = "--quantize", paramLabel = "TYPE", defaultValue = "none", converter = QuantizationConverter.class,
            description = "none (the default: dtypes as read) or q8_0: write the layers' projection weights (wqkv, wo, w1, w2, "
                    + "w3; input width a multiple of 32) as Q8_0 blocks, with metadata quantization=q8_0. Norms, biases, "
                    + "compose weights, the embedding table and the output head keep their dtype.")
    private Quantization quantize;

    @Override
    public Integer call() {
        if (!Files.exists(in)) {
            throw CliSupport.usage(spec, "--in " + in + " does not exist");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw CliSupport.usage(spec, "--out " + out + " exists and is not a directory");
        }
        CheckpointConverter.Report r = CheckpointConverter.convert(in, out, allowNonFinite, quantize);
        PrintWriter w = spec.commandLine().getOut();
        w.println("Wrote " + r.output() + ": " + r.written().size() + " tensors");
        if (!r.dropped().isEmpty()) {
            w.println("Dropped " + r.dropped().size() + " derived/cache entries: " + String.join(", ", r.dropped()));
        }
        r.nonFinite().ifPresent(n -> w.println("Warning: " + n.describe() + " (written anyway: --allow-non-finite)"));
        if (!r.copied().isEmpty()) {
            w.println("Copied: " + String.join(", ", r.copied()));
        }
        w.flush();
        return 0;
    }
}
