/**
 * The dcformer4j backend conformance kit: an abstract JUnit 5 suite every backend passes, the float64
 * oracle that defines each operation, the tolerances, the golden model outputs of the official reference,
 * and a runner over every provider {@link java.util.ServiceLoader} finds.
 */
module io.dcformer4j.conformance {
    requires transitive io.dcformer4j.api;
    requires io.dcformer4j.model;
    requires transitive org.junit.jupiter.api;
    requires org.assertj.core;
    requires org.junit.platform.launcher;
    requires java.management;

    exports io.dcformer4j.conformance;

    opens io.dcformer4j.conformance to org.junit.platform.commons;

    uses io.dcformer4j.api.BackendProvider;
}
