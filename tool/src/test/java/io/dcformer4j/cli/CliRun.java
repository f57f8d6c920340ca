package io.dcformer4j.cli;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the CLI in-process with captured output and a given stdin. */
record CliRun(int exit, String out, String err) {

    static CliRun of(String... args) {
        return withStdin("", args);
    }

    static synchronized CliRun withStdin(String stdin, String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        try {
            int exit = cl.execute(args);
            return new CliRun(exit, out.toString(), err.toString());
        } finally {
            System.setIn(saved);
        }
    }
}
