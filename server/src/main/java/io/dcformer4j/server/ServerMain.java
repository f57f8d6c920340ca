package io.dcformer4j.server;

import picocli.CommandLine;

/** Runs {@link ServeCommand} as a program: {@code java -m io.dcformer4j.server/io.dcformer4j.server.ServerMain --help}. */
public final class ServerMain {
    private ServerMain() {
    }

    /** Parses the options, serves until terminated; exit code 2 for bad options, 1 for failures. */
    public static void main(String[] args) {
        CommandLine cli = new CommandLine(new ServeCommand());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            commandLine.getErr().println("dcformer4j serve: " + e.getMessage());
            return 1;
        });
        System.exit(cli.execute(args));
    }
}
