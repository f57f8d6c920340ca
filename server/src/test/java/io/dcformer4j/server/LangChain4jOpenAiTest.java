package io.dcformer4j.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import io.dcformer4j.generate.GenerationConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's own OpenAI models, unchanged, pointed at the server's base URL. */
class LangChain4jOpenAiTest {
    private static final String QUESTION = "Ruth has a cat. What does Ruth have?";
    private static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = new ServerFixture();
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    private static String expected() {
        return fx.engineText("User: " + QUESTION + "\nAssistant:", GenerationConfig.builder().maxNewTokens(12)
                .temperature(0.6).seed(11).stopStrings(List.of("\nUser:")).build());
    }

    @Test
    void openAiChatModel() {
        OpenAiChatModel model = OpenAiChatModel.builder().baseUrl(fx.base() + "/v1").apiKey("unused")
                .modelName(fx.modelId()).temperature(0.6).seed(11).maxTokens(12).maxRetries(0).build();
        ChatResponse response = model.chat(dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from(QUESTION)).build());
        assertThat(response.aiMessage().text()).isEqualTo(expected());
        assertThat(response.tokenUsage().inputTokenCount())
                .isEqualTo(fx.model.tokenizer().encode("User: " + QUESTION + "\nAssistant:").length);
        assertThat(response.finishReason()).isNotNull();
    }

    @Test
    void openAiStreamingChatModel() throws Exception {
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder().baseUrl(fx.base() + "/v1").apiKey("unused")
                .modelName(fx.modelId()).temperature(0.6).seed(11).maxTokens(12).build();
        StringBuilder partial = new StringBuilder();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        model.chat(QUESTION, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String text) {
                partial.append(text);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse response = done.get(5, TimeUnit.MINUTES);
        assertThat(partial.toString()).isEqualTo(expected());
        assertThat(response.aiMessage().text()).isEqualTo(expected());
        assertThat(response.tokenUsage()).isNotNull();
        assertThat(response.tokenUsage().outputTokenCount()).isPositive();
    }
}
