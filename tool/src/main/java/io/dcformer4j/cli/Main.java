package io.dcformer4j.cli;

import io.dcformer4j.server.ServeCommand;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code dcformer4j} command-line tool: a thin picocli top command whose work is done by subcommands.
 * Exit codes: 0 success, 1 failure while running, 2 bad command-line arguments (one line on stderr).
 */
@Command(name = "dcformer4j", mixinStandardHelpOptions = true, version = "dcformer4j 0.1.0",
        description = "DCFormer / DCPythia inference on the JVM.",
        subcommands = {GenerateCommand.class, LogitsCommand.class, BenchCommand.class, BackendsCommand.class,
                InspectCommand.class, ConvertCommand.class, TokenizeCommand.class, EvalSyntheticCommand.class,
                ServeCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of a failure while running a command. */
    public static final int EXIT_FAILURE = 1;
    /** Exit code of invalid command-line arguments. */
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** Runs the tool and exits the JVM with its exit code. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit code (for embedding and tests). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            cl.getErr().println(OutOfMemory.describe(e));
            cl.getErr().flush();
            return EXIT_FAILURE;
        }
    }

    /** The configured picocli command line (error handling and output streams as the tool uses them). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String name = ex.getCommandLine().getCommandSpec().qualifiedName();
            err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            err.flush();
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, command, parsed) -> {
            PrintWriter err = command.getErr();
            String name = command.getCommandSpec().qualifiedName();
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            err.println(name + ": error: " + msg);
            if (Boolean.getBoolean("dcformer4j.debug")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_FAILURE;
        });
        return cl;
    }

    /** Without a subcommand: a usage error. */
    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }
}
