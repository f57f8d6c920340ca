package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import io.dcformer4j.generate.GenerationConfig;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against the server: the same text as the engine path, streamed or not. */
class OpenAiSdkTest {
    private static ServerFixture fx;
    private static OpenAIClient client;

    @BeforeAll
    static void start() {
        fx = new ServerFixture();
        client = OpenAIOkHttpClient.builder().baseUrl(fx.base() + "/v1").apiKey("not-needed").maxRetries(0).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        fx.close();
    }

    private static CompletionCreateParams completion(String prompt, long maxTokens, double temperature, long seed) {
        return CompletionCreateParams.builder().model(fx.modelId()).prompt(prompt).maxTokens(maxTokens)
                .temperature(temperature).topP(0.9).seed(seed).build();
    }

    private static GenerationConfig config(int maxTokens, double temperature, long seed, List<String> stop) {
        return GenerationConfig.builder().maxNewTokens(maxTokens).temperature(temperature).topP(0.9).seed(seed)
                .stopStrings(stop).build();
    }

    @Test
    void completionMatchesTheEngineGreedyWithAStop() {
        CompletionCreateParams p = CompletionCreateParams.builder().model(fx.modelId()).prompt(ServerFixture.DEMO_PROMPT)
                .maxTokens(12).temperature(0).stop("\n").build();
        Completion c = client.completions().create(p);
        String expected = fx.engineText(ServerFixture.DEMO_PROMPT,
                GenerationConfig.builder().maxNewTokens(12).stopStrings(List.of("\n")).build());
        assertThat(c.choices()).hasSize(1);
        assertThat(c.choices().get(0).text()).isEqualTo(expected).isEqualTo(" animal");
        assertThat(c.choices().get(0).finishReason().asString()).isEqualTo("stop");
        assertThat(c.usage().orElseThrow().promptTokens())
                .isEqualTo(fx.model.tokenizer().encode(ServerFixture.DEMO_PROMPT).length);
        assertThat(c.usage().orElseThrow().totalTokens())
                .isEqualTo(c.usage().orElseThrow().promptTokens() + c.usage().orElseThrow().completionTokens());
    }

    @Test
    void sampledCompletionMatchesTheEngineStreamedAndNot() {
        for (long seed : new long[] {1, 7, 42}) {
            String expected = fx.engineText(ServerFixture.DEMO_PROMPT, config(20, 0.8, seed, List.of()));
            Completion whole = client.completions().create(completion(ServerFixture.DEMO_PROMPT, 20, 0.8, seed));
            assertThat(whole.choices().get(0).text()).as("seed %d", seed).isEqualTo(expected);
            StringBuilder streamed = new StringBuilder();
            AtomicReference<String> finish = new AtomicReference<>();
            try (StreamResponse<Completion> s = client.completions().createStreaming(
                    completion(ServerFixture.DEMO_PROMPT, 20, 0.8, seed))) {
                s.stream().forEach(chunk -> chunk.choices().forEach(ch -> {
                    streamed.append(ch.text());
                    if (!ch._finishReason().isNull() && !ch._finishReason().isMissing()) {
                        finish.set(ch.finishReason().asString());
                    }
                }));
            }
            assertThat(streamed.toString()).as("seed %d", seed).isEqualTo(expected);
            assertThat(finish.get()).isEqualTo(whole.choices().get(0).finishReason().asString());
        }
    }

    @Test
    void chatMatchesTheEngineOnTheTranscriptFormatStreamedAndNot() {
        String question = "Mary has a pen. Tom has a fox. Who has a fox?";
        String transcript = "System note.\n\nUser: " + question + "\nAssistant:";
        String expected = fx.engineText(transcript, config(16, 0.7, 3, List.of("\nUser:")));
        ChatCompletionCreateParams p = ChatCompletionCreateParams.builder().model(fx.modelId())
                .addSystemMessage("System note.").addUserMessage(question)
                .maxCompletionTokens(16).temperature(0.7).topP(0.9).seed(3).build();
        ChatCompletion whole = client.chat().completions().create(p);
        assertThat(whole.choices().get(0).message().content()).contains(expected);
        assertThat(whole.usage().orElseThrow().promptTokens()).isEqualTo(fx.model.tokenizer().encode(transcript).length);

        StringBuilder streamed = new StringBuilder();
        AtomicReference<Long> completionTokens = new AtomicReference<>();
        ChatCompletionCreateParams ps = p.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(ps)) {
            s.stream().forEach(chunk -> {
                chunk.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append));
                chunk.usage().ifPresent(u -> completionTokens.set(u.completionTokens()));
            });
        }
        assertThat(streamed.toString()).isEqualTo(expected);
        assertThat(completionTokens.get()).isEqualTo(whole.usage().orElseThrow().completionTokens());
    }

    @Test
    void modelsListsTheServedModel() {
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly(fx.modelId());
    }
}
