/**
 * The {@code dcformer4j} command-line tool (picocli) and the benchmark harness behind its {@code bench}
 * command. It sits above the library: an embedding user pulls {@code model-zoo} and a backend, never this.
 * Backends are found at run time through {@code ServiceLoader}; none is required here.
 */
module io.dcformer4j.tool {
    requires io.dcformer4j.model;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires io.dcformer4j.server; // the 'serve' command
    requires jdk.incubator.vector; // the bench command's bandwidth probe streams with vector loads

    exports io.dcformer4j.cli;
    opens io.dcformer4j.cli to info.picocli;
    exports io.dcformer4j.bench;

    uses io.dcformer4j.api.BackendProvider;
}
