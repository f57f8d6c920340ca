package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.dcformer4j.GenerationSession;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The server under load on the demo model: 32 streaming clients send 1,000 requests (none lost, duplicated
 * or mixed up, each with the right text and usage), while other clients disconnect mid-stream and others
 * overflow the context; then a flood beyond the queue gets 429 and the server recovers. Afterwards the
 * backend holds exactly the tensors and bytes it held before, and no thread was left behind. Figures
 * (time to first token, tokens/s, 8 clients against 1) are printed for docs/performance.md, not asserted.
 */
class LoadTest {
    private static final int CLIENTS = 32;
    private static final int REQUESTS = 1000;
    private static final int MAX_TOKENS = 6;
    private static final int DISCONNECTS = 16;
    private static final int OVERFLOWS = 16;
    private static final String[][] PEOPLE = {
        {"Mary", "pen", "Tom", "fox", "Ruth", "cat"}, {"Ann", "cup", "Bob", "dog", "Eve", "car"},
        {"Tom", "hat", "Ruth", "cow", "Mary", "bus"}, {"Bob", "pig", "Ann", "van", "Eve", "mug"},
    };

    private static String prompt(int i) {
        String[] p = PEOPLE[i % PEOPLE.length];
        return "< " + p[0] + " has a " + p[1] + ". " + p[2] + " has a " + p[3] + ". " + p[4] + " has a " + p[5] + ". >. "
                + p[2 * ((i / PEOPLE.length) % 3)] + " has a kind of";
    }

    private static final int PROMPTS = PEOPLE.length * 3;

    private static String body(String prompt, int maxTokens) {
        return "{\"model\": \"" + ServerConfig.DEMO_MODEL_NAME + "\", \"prompt\": \"" + prompt + "\", \"max_tokens\": "
                + maxTokens + ", \"temperature\": 0, \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
    }

    @Test
    void thousandStreamedRequestsDisconnectsOverflowsAndAFlood() throws Exception {
        ServerFixture fx = new ServerFixture(b -> b.maxBatch(8).queueLimit(CLIENTS - 8 + DISCONNECTS + OVERFLOWS));
        HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        try {
            // The engine's answers, the reference every streamed reply must reproduce.
            String[] expected = new String[PROMPTS];
            int[] expectedPrompt = new int[PROMPTS];
            int[] expectedCompletion = new int[PROMPTS];
            for (int i = 0; i < PROMPTS; i++) {
                try (GenerationSession s = fx.model.newSession()) {
                    GenerationResult r = s.run(prompt(i), GenerationConfig.greedy(MAX_TOKENS), (a, b) -> { }, null);
                    expected[i] = r.text();
                    expectedPrompt[i] = r.promptTokens();
                    expectedCompletion[i] = r.tokens().length;
                }
            }
            for (int i = 0; i < 3; i++) { // warm-up, so the baseline below includes every lazily started thread
                assertThat(SseClient.stream(http, fx.base(), body(prompt(i), MAX_TOKENS)).done()).isTrue();
            }
            long liveTensors = fx.backend.liveTensors();
            long liveBytes = fx.backend.liveBytes();
            Set<Long> threadsBefore = threadIds();

            // 32 clients, 1,000 requests; disconnecting and over-context clients run beside them.
            Map<Integer, SseClient.Reply> replies = new ConcurrentHashMap<>();
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> clients = new ArrayList<>();
            long start = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int c = 0; c < CLIENTS; c++) {
                    clients.add(pool.submit(() -> {
                        for (int i = next.getAndIncrement(); i < REQUESTS; i = next.getAndIncrement()) {
                            replies.put(i, SseClient.stream(http, fx.base(), body(prompt(i % PROMPTS), MAX_TOKENS)));
                        }
                        return null;
                    }));
                }
                List<Future<HttpResponse<String>>> overflows = new ArrayList<>();
                String tooLong = "Tom has a fox. ".repeat(300);
                for (int d = 0; d < DISCONNECTS; d++) {
                    clients.add(pool.submit(() -> {
                        // ignore_eos: the generation cannot end by itself before the server notices the client left.
                        SseClient.disconnectAfterFirstEvent(fx.server.port(),
                                body(prompt(0), 900).replace("\"stream\": true", "\"ignore_eos\": true, \"stream\": true"));
                        return null;
                    }));
                    overflows.add(pool.submit(() -> fx.post("/v1/completions", body(tooLong, 4))));
                }
                for (Future<?> f : clients) {
                    f.get();
                }
                long elapsed = System.nanoTime() - start;
                for (Future<HttpResponse<String>> f : overflows) {
                    assertThat(f.get().statusCode()).isEqualTo(400);
                    assertThat(f.get().body()).contains("context_length_exceeded");
                }
                report(replies.values(), elapsed);
            }

            assertThat(replies).hasSize(REQUESTS);
            Set<String> ids = new HashSet<>();
            for (int i = 0; i < REQUESTS; i++) {
                SseClient.Reply r = replies.get(i);
                int p = i % PROMPTS;
                assertThat(r.status()).as("request %d", i).isEqualTo(200);
                assertThat(r.done()).as("request %d ends with [DONE]", i).isTrue();
                assertThat(r.text()).as("request %d", i).isEqualTo(expected[p]);
                assertThat(r.promptTokens()).as("request %d prompt_tokens", i).isEqualTo(expectedPrompt[p]);
                assertThat(r.completionTokens()).as("request %d completion_tokens", i).isEqualTo(expectedCompletion[p]);
                assertThat(r.finish()).isEqualTo(expectedCompletion[p] == MAX_TOKENS ? "length" : "stop");
                ids.add(r.id());
            }
            assertThat(ids).as("every reply has its own id").hasSize(REQUESTS);

            // Every disconnected client's generation was cancelled (not run to its 900 tokens).
            awaitCondition(() -> fx.server.cancelledGenerations() == DISCONNECTS && fx.server.runningGenerations() == 0);
            assertThat(fx.server.cancelledGenerations()).isEqualTo(DISCONNECTS);

            // A flood beyond slots and queue: some 429 with Retry-After, the rest served; then service resumes.
            int flood = 8 + CLIENTS - 8 + DISCONNECTS + OVERFLOWS + 60;
            List<Future<HttpResponse<String>>> floods = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < flood; i++) {
                    floods.add(pool.submit(() -> fx.post("/v1/completions",
                            body(prompt(1), 24).replace("\"stream\": true", "\"stream\": false")
                                    .replace(", \"stream_options\": {\"include_usage\": true}", ""))));
                }
            }
            int ok = 0;
            int busy = 0;
            for (Future<HttpResponse<String>> f : floods) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 429) {
                    busy++;
                    assertThat(r.headers().firstValue("Retry-After")).isPresent();
                    assertThat(r.body()).contains("\"rate_limit_exceeded\"");
                } else {
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    ok++;
                }
            }
            System.out.printf("flood of %d: %d served, %d refused with 429%n", flood, ok, busy);
            assertThat(busy).isPositive();
            assertThat(ok).isPositive();
            SseClient.Reply after = SseClient.stream(http, fx.base(), body(prompt(2), MAX_TOKENS));
            assertThat(after.status()).isEqualTo(200);
            assertThat(after.text()).isEqualTo(expected[2]);

            // Nothing left behind: the backend's tensors and bytes, and threads.
            awaitCondition(() -> fx.server.runningGenerations() == 0);
            assertThat(fx.backend.liveTensors()).isEqualTo(liveTensors);
            assertThat(fx.backend.liveBytes()).isEqualTo(liveBytes);
            awaitCondition(() -> leaked(threadsBefore).isEmpty());
            assertThat(leaked(threadsBefore)).isEmpty();
        } finally {
            Bounded.closeNow(http);
            fx.close();
        }
    }

    /** Aggregate tokens/s of 1 client against 8 concurrent clients, each sending the same number of requests. */
    @Test
    void eightClientsAgainstOne() throws Exception {
        try (ServerFixture fx = new ServerFixture(b -> b.maxBatch(8))) {
            HttpClient http = HttpClient.newHttpClient();
            // Warm-up in both shapes of load, 20 rounds: with a few requests only, the compiler threads still took
            // half the CPU during the one-client phase (per-thread CPU from /proc), so the two phases compared two
            // stages of warm-up. (A stop once the JIT's compilation time settled never triggered before 20 rounds.)
            for (int round = 0; round < 20; round++) {
                throughput(fx, http, 1, 8);
                throughput(fx, http, 8, 4);
            }
            // The phases' wall-clock times, to cut a profile of the run (JFR) into its two halves.
            System.out.println("phase 1 client from " + java.time.Instant.now());
            // More requests give a profiler longer phases: -Ddcformer4j.loadtest.requests=64.
            int requests = Integer.getInteger("dcformer4j.loadtest.requests", 8);
            Phase one = throughput(fx, http, 1, requests);
            System.out.println("phase 8 clients from " + java.time.Instant.now());
            io.dcformer4j.DecodeStatistics before = fx.model.decodeStatistics();
            Phase eight = throughput(fx, http, 8, requests);
            double rowsPerStep = fx.model.decodeStatistics().since(before).meanRows();
            System.out.println("phases end " + java.time.Instant.now());
            System.out.printf("aggregate tokens/s: 1 client %.1f, 8 clients %.1f, ratio %.2f (%d processors;"
                    + " this JVM used %.2f and %.2f cores; %.2f rows per decode step with 8 clients)%n", one.tokensPerSecond(),
                    eight.tokensPerSecond(), eight.tokensPerSecond() / one.tokensPerSecond(),
                    Runtime.getRuntime().availableProcessors(), one.cores(), eight.cores(), rowsPerStep);
            assertThat(one.tokensPerSecond()).isPositive();
            assertThat(eight.tokensPerSecond()).isPositive();
            Bounded.closeNow(http);
        }
    }

    /**
     * One throughput phase: generated tokens per second of wall-clock time, and the processor time of this JVM
     * (server, clients, JIT and GC together) over the same time, in cores.
     */
    private record Phase(double tokensPerSecond, double cores) {
    }

    private static Phase throughput(ServerFixture fx, HttpClient http, int clients, int requestsEach) throws Exception {
        AtomicInteger tokens = new AtomicInteger();
        long cpuStart = processCpuNanos();
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                all.add(pool.submit(() -> {
                    for (int i = 0; i < requestsEach; i++) {
                        SseClient.Reply r = SseClient.stream(http, fx.base(), body(prompt(client + i), 32));
                        tokens.addAndGet(r.completionTokens());
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        }
        long wall = System.nanoTime() - start;
        return new Phase(tokens.get() / (wall / 1e9), (processCpuNanos() - cpuStart) / (double) wall);
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static void report(java.util.Collection<SseClient.Reply> replies, long elapsedNanos) {
        long[] ttft = replies.stream().mapToLong(SseClient.Reply::ttftNanos).filter(t -> t >= 0).sorted().toArray();
        long tokens = replies.stream().mapToLong(SseClient.Reply::completionTokens).sum();
        System.out.printf("load: %d requests by %d clients in %.1f s; TTFT p50 %.1f ms, p99 %.1f ms; %d tokens, %.1f tokens/s%n",
                replies.size(), CLIENTS, elapsedNanos / 1e9, percentile(ttft, 0.50) / 1e6, percentile(ttft, 0.99) / 1e6,
                tokens, tokens / (elapsedNanos / 1e9));
    }

    private static double percentile(long[] sorted, double q) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }

    private static Set<Long> threadIds() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::threadId).collect(Collectors.toSet());
    }

    /**
     * Platform threads started since {@code before} and still alive, except the JDK's own pools (carrier
     * threads of virtual threads and the common pool grow on demand and are not ours to stop).
     */
    private static List<String> leaked(Set<Long> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.contains(t.threadId()))
                .map(Thread::getName)
                .filter(n -> !n.startsWith("ForkJoinPool") && !n.startsWith("InnocuousThread")
                        && !n.equals("VirtualThread-unparker") && !n.startsWith("Common-Cleaner")
                        && !n.startsWith("HttpClient-"))
                .sorted().toList();
    }

    private static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }
}
