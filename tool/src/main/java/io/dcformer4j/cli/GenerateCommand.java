package io.dcformer4j.cli;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dcformer4j generate}: continues a prompt and streams the text to stdout as it is produced. Without
 * {@code --model} it runs the shipped demo DCFormer ({@code --mha}: its plain-MHA baseline).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continue a prompt (argument, or stdin when absent) and stream the generated text.",
                "Without --model the shipped demo DCFormer runs (--mha: the demo's plain-MHA baseline)."})
public final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "The prompt; read from stdin when absent.")
    private String prompt;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model directory (config.json, checkpoint, tokenizer.json). Default: the demo DCFormer.")
    private Path model;

    @Option(names = "--mha", description = "Use the demo's plain-MHA baseline instead of the demo DCFormer.")
    private boolean mha;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64", description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    private int maxNewTokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 = greedy (default), else sampling temperature.")
    private double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K most likely tokens (0 = off).")
    private int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling threshold (1 = off).")
    private double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Penalty on tokens already in the text (1 = off).")
    private double repetitionPenalty;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--stop", paramLabel = "TEXT",
            description = "Stop when this text appears (repeatable; \\n and \\t are a newline and a tab).")
    private List<String> stop = List.of();

    @Option(names = "--stats", description = "Print token counts, speed and the stop reason on stderr.")
    private boolean stats;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend name (default: -Ddcformer4j.backend, $DCFORMER4J_BACKEND, else the best available).")
    private String backend;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Backend worker threads (default: all processors).")
    private int threads;

    @Override
    public Integer call() throws Exception {
        GenerationConfig config;
        try {
            config = GenerationConfig.builder().maxNewTokens(maxNewTokens).temperature(temperature).topK(topK).topP(topP)
                    .repetitionPenalty(repetitionPenalty).seed(seed).stopStrings(stop.stream().map(GenerateCommand::unescape).toList())
                    .build();
        } catch (IllegalArgumentException e) {
            throw CliSupport.usage(spec, e.getMessage());
        }
        Path dir = CliSupport.modelDirectory(spec, model, mha);
        String text = prompt != null ? prompt : readStdin();
        if (text.isEmpty()) {
            throw CliSupport.usage(spec, "the prompt is empty (give it as an argument or on stdin)");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (Backend be = CliSupport.openBackend(spec, backend, threads);
             DCFormer m = CliSupport.load(spec, dir, be);
             GenerationSession session = m.newSession()) {
            long start = System.nanoTime();
            GenerationResult r = session.run(text, config, (piece, token) -> {
                out.print(piece);
                out.flush();
            }, null);
            double seconds = (System.nanoTime() - start) / 1e9;
            out.println();
            out.flush();
            if (stats) {
                spec.commandLine().getErr().printf(java.util.Locale.ROOT,
                        "%d prompt tokens, %d generated in %.2f s (%.1f tokens/s), stopped by %s, backend %s%n",
                        r.promptTokens(), r.tokens().length, seconds, r.tokens().length / Math.max(seconds, 1e-9),
                        r.stopReason(), be.name());
            }
            if (r.tokens().length == 0) {
                spec.commandLine().getErr().println("generate: nothing was generated (" + r.stopReason() + ")");
            }
        }
        return 0;
    }

    /** Turns the escapes {@code \n}, {@code \t} and {@code \\} of a command-line stop string into characters. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (n == 'n' || n == 't' || n == '\\') {
                    sb.append(n == 'n' ? '\n' : n == 't' ? '\t' : '\\');
                    i++;
                    continue;
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static String readStdin() throws java.io.IOException {
        try (BufferedReader in = CliSupport.stdin()) {
            return in.lines().collect(Collectors.joining("\n"));
        }
    }
}
