package io.dcformer4j.cli;

import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.model.Quantization;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
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
        description = {"Continue a prompt (argument, -p, -f FILE, or stdin) and stream the generated text;",
                "-i reads prompts line by line and keeps the session's context between them.",
                "Without --model the shipped demo DCFormer runs (--mha: the demo's plain-MHA baseline)."})
public final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "0..1", paramLabel = "PROMPT", description = "The prompt; read from stdin when absent.")
    private String prompt;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The prompt (instead of the argument).")
    private String promptOption;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from FILE (UTF-8).")
    private Path promptFile;

    @Option(names = {"-m", "--model"}, paramLabel = "DIR",
            description = "Model directory (config.json, checkpoint, tokenizer.json). Default: the demo DCFormer.")
    private Path model;

    @Option(names = "--quantize", paramLabel = "TYPE", defaultValue = "none", converter = QuantizationConverter.class,
            description = QuantizationConverter.DESCRIPTION)
    private Quantization quantize;

    @Option(names = "--mha", description = "Use the demo's plain-MHA baseline instead of the demo DCFormer.")
    private boolean mha;

    @Option(names = {"-n", "--max-new-tokens"}, paramLabel = "N", defaultValue = "64",
            description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
    private int maxNewTokens;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N",
            description = "Context size in tokens, prompt and output together (default: the model's block_size).")
    private Integer ctxSize;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0 = greedy (default), else sampling temperature.")
    private double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K most likely tokens (0 = off).")
    private int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Nucleus sampling threshold (1 = off).")
    private double topP;

    @Option(names = "--repetition-penalty", paramLabel = "R", defaultValue = "1", description = "Penalty on tokens already in the text (1 = off).")
    private double repetitionPenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "S",
            description = "Sampling seed (default: a random one, printed by --stats so a run can be repeated).")
    private Long seed;

    @Option(names = "--stop", paramLabel = "TEXT",
            description = "Stop when this text appears (repeatable; \\n and \\t are a newline and a tab).")
    private List<String> stop = List.of();

    @Option(names = "--stats", description = "Print load time, prompt eval and eval (tokens, ms, tokens/s), time to first token and the seed on stderr.")
    private boolean stats;

    @Option(names = {"-i", "--interactive"},
            description = "Read prompts line by line from stdin; each continues the same session (its context is kept).")
    private boolean interactive;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "Backend name (default: -Ddcformer4j.backend, $DCFORMER4J_BACKEND, else the best available).")
    private String backend;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", defaultValue = "0", description = "Backend worker threads (default: all processors).")
    private int threads;

    @Override
    public Integer call() throws Exception {
        long useSeed = seed != null ? seed : new SplittableRandom().nextLong();
        GenerationConfig config;
        try {
            config = GenerationConfig.builder().maxNewTokens(maxNewTokens).temperature(temperature).topK(topK).topP(topP)
                    .repetitionPenalty(repetitionPenalty).seed(useSeed).stopStrings(stop.stream().map(GenerateCommand::unescape).toList())
                    .build();
        } catch (IllegalArgumentException e) {
            throw CliSupport.usage(spec, e.getMessage());
        }
        if (ctxSize != null && ctxSize <= 0) {
            throw CliSupport.usage(spec, "-c/--ctx-size must be positive, got " + ctxSize);
        }
        Path dir = CliSupport.modelDirectory(spec, model, mha);
        String text = interactive ? null : promptText();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        long loadStart = System.nanoTime();
        try (Backend be = CliSupport.openBackend(spec, backend, threads);
             DCFormer m = CliSupport.load(spec, dir, be, quantize);
             GenerationSession session = newSession(m)) {
            double loadMs = (System.nanoTime() - loadStart) / 1e6;
            if (!interactive) {
                generateOnce(session, text, config, out, err, loadMs, useSeed, be.name());
                return 0;
            }
            if (System.console() != null) {
                err.println("interactive: each line continues the same text; end with Ctrl-D");
            }
            try (BufferedReader in = CliSupport.stdin()) {
                for (String line = prompt(in, err); line != null; line = prompt(in, err)) {
                    if (line.isEmpty()) {
                        continue;
                    }
                    if (!generateOnce(session, line, config, out, err, loadMs, useSeed, be.name())) {
                        break;
                    }
                    loadMs = 0;
                }
            }
        }
        return 0;
    }

    private GenerationSession newSession(DCFormer m) {
        if (ctxSize == null) {
            return m.newSession();
        }
        int block = m.config().blockSize();
        if (ctxSize > block) {
            throw CliSupport.usage(spec, "-c/--ctx-size " + ctxSize + " is larger than the model's block_size " + block);
        }
        return m.newSession(ctxSize);
    }

    /** The prompt-line marker of interactive mode (on a terminal only), then one line or null at the end. */
    private static String prompt(BufferedReader in, PrintWriter err) throws IOException {
        if (System.console() != null) {
            err.print("> ");
            err.flush();
        }
        return in.readLine();
    }

    /**
     * Streams one continuation; returns false when stdout was closed (e.g. {@code | head}), which stops the
     * generation instead of computing text nobody reads.
     */
    private boolean generateOnce(GenerationSession session, String text, GenerationConfig config, PrintWriter out,
                                 PrintWriter err, double loadMs, long useSeed, String backendName) {
        GenerationTimer timer = new GenerationTimer();
        boolean[] closed = new boolean[1];
        GenerationResult r = session.run(text, config, (piece, token) -> {
            timer.piece();
            out.print(piece);
            if (out.checkError()) { // flushes; true once the reader has gone away
                closed[0] = true;
                session.cancel();
            }
        }, null);
        if (closed[0]) {
            return false;
        }
        out.println();
        out.flush();
        if (stats) {
            err.print(timer.report(r, loadMs, useSeed, backendName));
        }
        if (r.tokens().length == 0) {
            err.println("generate: nothing was generated (" + r.stopReason() + ")");
        }
        err.flush();
        return !out.checkError();
    }

    /** The prompt from -p, the argument, -f FILE or stdin (with a hint when stdin is a terminal). */
    private String promptText() throws IOException {
        int given = (prompt != null ? 1 : 0) + (promptOption != null ? 1 : 0) + (promptFile != null ? 1 : 0);
        if (given > 1) {
            throw CliSupport.usage(spec, "give the prompt once: as an argument, with -p TEXT or with -f FILE");
        }
        String text;
        if (promptOption != null) {
            text = promptOption;
        } else if (prompt != null) {
            text = prompt;
        } else if (promptFile != null) {
            if (!Files.isRegularFile(promptFile)) {
                throw CliSupport.usage(spec, "-f " + promptFile + ": no such file");
            }
            text = Files.readString(promptFile, StandardCharsets.UTF_8);
        } else {
            if (System.console() != null) {
                spec.commandLine().getErr().println("generate: reading the prompt from the terminal; end it with "
                        + "Ctrl-D (or give it as an argument, with -p TEXT or -f FILE; -i for a conversation)");
                spec.commandLine().getErr().flush();
            }
            text = readStdin();
        }
        if (text.isEmpty()) {
            throw CliSupport.usage(spec, "the prompt is empty (give it as an argument, with -p, -f FILE or on stdin)");
        }
        return text;
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
