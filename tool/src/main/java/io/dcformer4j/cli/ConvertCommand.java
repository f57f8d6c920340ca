package io.dcformer4j.cli;

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

    @Override
    public Integer call() {
        if (!Files.exists(in)) {
            throw CliSupport.usage(spec, "--in " + in + " does not exist");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw CliSupport.usage(spec, "--out " + out + " exists and is not a directory");
        }
        CheckpointConverter.Report r = CheckpointConverter.convert(in, out);
        PrintWriter w = spec.commandLine().getOut();
        w.println("Wrote " + r.output() + ": " + r.written().size() + " tensors");
        if (!r.dropped().isEmpty()) {
            w.println("Dropped " + r.dropped().size() + " derived/cache entries: " + String.join(", ", r.dropped()));
        }
        if (!r.copied().isEmpty()) {
            w.println("Copied: " + String.join(", ", r.copied()));
        }
        w.flush();
        return 0;
    }
}
