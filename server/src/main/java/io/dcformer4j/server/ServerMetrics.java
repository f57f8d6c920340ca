package io.dcformer4j.server;

import io.dcformer4j.DecodeStatistics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics (Micrometer): requests by endpoint and status, errors by type, queue length,
 * batch size (generations running at once), the engine's batched decode steps and the sequence rows they
 * carried (their ratio is the mean batch a step actually ran), time to first token and time between tokens as
 * histograms, generated and prompt tokens, and tokens per second over the last ten seconds.
 */
final class ServerMetrics {
    /** Endpoints used as label values; any other path is counted as "other" so labels stay bounded. */
    private static final Set<String> ENDPOINTS = Set.of("/v1/completions", "/v1/chat/completions", "/v1/models",
            "/health", "/metrics");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer interToken;
    private final Counter generated;
    private final Counter prompt;
    private final Counter cancelled;
    private final DistributionSummary batchAtAdmission;
    private final TokenRate rate = new TokenRate();
    /** Held here: Micrometer keeps only a weak reference to a function counter's source. */
    private final Supplier<DecodeStatistics> decode;

    ServerMetrics(Admission admission, Supplier<DecodeStatistics> decode) {
        this.decode = decode;
        FunctionCounter.builder("dcformer4j_decode_steps", decode, d -> d.get().steps())
                .description("Batched decode steps the engine ran").register(registry);
        FunctionCounter.builder("dcformer4j_decode_rows", decode, d -> d.get().rows())
                .description("Sequence rows those decode steps carried (rows / steps = mean batch of a step)").register(registry);
        Gauge.builder("dcformer4j_queue_length", admission, Admission::queueLength)
                .description("Requests waiting for a generation slot").register(registry);
        Gauge.builder("dcformer4j_batch_size", admission, Admission::running)
                .description("Generations running at once").register(registry);
        Gauge.builder("dcformer4j_tokens_per_second", rate, r -> r.perSecond(System.currentTimeMillis()))
                .description("Generated tokens per second over the last " + TokenRate.WINDOW + " seconds").register(registry);
        batchAtAdmission = DistributionSummary.builder("dcformer4j_batch_size_at_admission")
                .description("Generations running when a request got its slot (itself included)")
                .publishPercentileHistogram().maximumExpectedValue(1024.0).register(registry);
        ttft = Timer.builder("dcformer4j_time_to_first_token")
                .description("From request arrival (queueing included) to the first generated token")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(2)).register(registry);
        interToken = Timer.builder("dcformer4j_inter_token_latency")
                .description("Time between successive generated tokens of one request")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        generated = Counter.builder("dcformer4j_generated_tokens").description("Generated tokens").register(registry);
        cancelled = Counter.builder("dcformer4j_cancelled_generations")
                .description("Generations cut short because the client disconnected or the server stopped").register(registry);
        prompt = Counter.builder("dcformer4j_prompt_tokens").description("Prompt tokens processed").register(registry);
    }

    void request(String path, int status) {
        String endpoint = ENDPOINTS.contains(path) ? path : path.startsWith("/v1/models/") ? "/v1/models/{id}" : "other";
        Counter.builder("dcformer4j_requests").description("HTTP requests by endpoint and status")
                .tag("endpoint", endpoint).tag("status", Integer.toString(status)).register(registry).increment();
    }

    void error(String type) {
        Counter.builder("dcformer4j_request_errors").description("Failed requests by OpenAI error type")
                .tag("type", type).register(registry).increment();
    }

    void admitted(int running) {
        batchAtAdmission.record(running);
    }

    void cancelled() {
        cancelled.increment();
    }

    double cancelledCount() {
        return cancelled.count();
    }

    void promptTokens(int n) {
        prompt.increment(n);
    }

    void firstToken(long nanos) {
        ttft.record(nanos, TimeUnit.NANOSECONDS);
        token();
    }

    void nextToken(long nanos) {
        interToken.record(nanos, TimeUnit.NANOSECONDS);
        token();
    }

    private void token() {
        generated.increment();
        rate.add(System.currentTimeMillis());
    }

    /** The Prometheus text exposition. */
    String scrape() {
        return registry.scrape();
    }

    void close() {
        registry.close();
    }
}
