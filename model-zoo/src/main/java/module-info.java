/**
 * DCFormer++, DCPythia and their plain-MHA baselines written once against the backend SPI, with checkpoint
 * loading, tokenizers and generation. Imports {@code io.dcformer4j.api} only: no backend package is visible
 * here. The command-line tool and the benchmark harness live in the {@code io.dcformer4j.tool} module.
 */
module io.dcformer4j.model {
    requires transitive io.dcformer4j.api;
    requires com.fasterxml.jackson.databind;
    requires jdk.management;

    exports io.dcformer4j.model;
    exports io.dcformer4j.model.checkpoint;
    exports io.dcformer4j.tokenizer;
    exports io.dcformer4j.eval;
    exports io.dcformer4j.generate;
    exports io.dcformer4j;

    uses io.dcformer4j.api.BackendProvider;
}
