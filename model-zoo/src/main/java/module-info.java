/**
 * DCFormer++, DCPythia and their plain-MHA baselines written once against the backend SPI, with checkpoint
 * loading, tokenizers, generation and the command-line tool. Imports {@code io.dcformer4j.api} only: no
 * backend package is visible here.
 */
module io.dcformer4j.model {
    requires transitive io.dcformer4j.api;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires jdk.incubator.vector; // the bench command's bandwidth probe streams with vector loads

    exports io.dcformer4j.model;
    exports io.dcformer4j.model.checkpoint;
    exports io.dcformer4j.tokenizer;
    exports io.dcformer4j.eval;
    exports io.dcformer4j.generate;
    exports io.dcformer4j;
    exports io.dcformer4j.cli;
    opens io.dcformer4j.cli to info.picocli;
    exports io.dcformer4j.bench;

    uses io.dcformer4j.api.BackendProvider;
}
