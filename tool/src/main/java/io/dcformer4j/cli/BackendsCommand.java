package io.dcformer4j.cli;

import io.dcformer4j.api.Availability;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.BackendProvider;
import io.dcformer4j.api.BackendSelection;
import io.dcformer4j.api.BackendSelector;
import io.dcformer4j.api.BackendUnavailableException;
import io.dcformer4j.api.Backends;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code dcformer4j backends}: every provider found, available or why not, and the one the rules would choose.
 * The choice is opened and closed again, so a backend that reports itself available but cannot open shows up
 * here with the reason and the one selection falls back to.
 */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List the backend providers found, whether each is available (or why not), and which one "
                + "would be chosen and why.")
public final class BackendsCommand implements Callable<Integer> {
    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--load-class", hidden = true, paramLabel = "CLASS",
            description = "Diagnostic: load CLASS (without initialising it) and say from where; exit 1 if it cannot be loaded.")
    private List<String> loadClasses = new ArrayList<>();

    @CommandLine.Option(names = "--find-resource", hidden = true, paramLabel = "NAME",
            description = "Diagnostic: find the class-path resource NAME and say where; exit 1 if it is missing.")
    private List<String> findResources = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        BackendSelector selector = Backends.selector();
        List<BackendProvider> providers = selector.providers();
        if (providers.isEmpty()) {
            out.println("No backend providers found (is a backend jar on the class path?)");
        } else {
            out.println("Backend providers (highest priority first):");
            for (BackendProvider p : providers) {
                Availability a = BackendSelector.safeAvailability(p);
                out.printf("  %-8s priority %4d  %-11s  %s%n", p.name(), p.priority(),
                        a.available() ? "available" : "unavailable", a.reason());
            }
        }
        boolean found = ClassPathCheck.report(out, loadClasses, findResources);
        try {
            BackendSelection s = selector.withWarnings(line -> { }).select(null, BackendOptions.defaults());
            try (Backend opened = s.backend()) {
                out.println("Would use: " + s.summary());
            }
            out.flush();
            return found ? 0 : Main.EXIT_FAILURE;
        } catch (BackendUnavailableException e) {
            out.println("Would use: none — " + e.getMessage().lines().findFirst().orElse(""));
            out.flush();
            return Main.EXIT_FAILURE;
        }
    }
}
