package io.dcformer4j.cli;

import io.dcformer4j.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dcformer4j tokenize}: each stdin line to one line of space-separated token ids (no special tokens
 * added), or with {@code --decode} each line of ids back to text.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = {"Read lines from stdin; print the token ids of each line on one line, space-separated",
                "(no special tokens added). With --decode, read lines of ids and print their text."})
public final class TokenizeCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "A Hugging Face tokenizer.json.")
    private Path tokenizer;

    @Option(names = "--decode", description = "Turn lines of ids into text instead.")
    private boolean decode;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(tokenizer)) {
            throw CliSupport.usage(spec, "--tokenizer " + tokenizer + " is not a file");
        }
        Tokenizer tok = Tokenizer.load(tokenizer);
        PrintWriter out = spec.commandLine().getOut();
        try (BufferedReader in = CliSupport.stdin()) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                out.println(decode ? tok.decode(parseIds(line, lineNo, tok.vocabSize())) : join(tok.encode(line)));
            }
        }
        out.flush();
        return 0;
    }

    private static String join(int[] ids) {
        return TokenList.format(ids);
    }

    private static int[] parseIds(String line, int lineNo, int vocab) {
        int[] ids;
        try {
            ids = TokenList.parse(line);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("stdin line " + lineNo + ": " + e.getMessage());
        }
        for (int id : ids) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("stdin line " + lineNo + ": token id " + id
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        return ids;
    }
}
