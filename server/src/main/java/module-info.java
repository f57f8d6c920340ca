/**
 * An OpenAI-compatible HTTP server over the embedding API: completions and chat completions (streamed as
 * server-sent events or not), models, health and Prometheus metrics, on Javalin (Jetty 12) with virtual
 * threads. Kept out of {@code io.dcformer4j.model} so that embedding users do not pull an HTTP stack.
 */
module io.dcformer4j.server {
    requires transitive io.dcformer4j.model;
    requires io.javalin;
    requires jakarta.servlet;
    requires org.eclipse.jetty.server;
    requires micrometer.core;
    requires micrometer.registry.prometheus;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires jinjava;
    // jinjava's expression-language resolvers name java.beans types in their signatures.
    requires java.desktop;

    exports io.dcformer4j.server;
    opens io.dcformer4j.server to info.picocli;
    opens io.dcformer4j.server.template to jinjava;
}
