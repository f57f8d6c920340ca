package io.dcformer4j.langchain4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.TokenStream;
import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.BackendOptions;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The four LangChain4j models on the demo model, driven through LangChain4j's own AiServices and handlers. */
class DCFormerLangChain4jTest {
    private static final String DEMO_PROMPT = "< Mary has a pen. Tom has a fox. Ruth has a cat. >. Tom has a kind of";
    private static Backend backend;
    private static DCFormer model;

    interface Assistant {
        String chat(String message);
    }

    interface StreamingAssistant {
        TokenStream chat(String message);
    }

    @BeforeAll
    static void load() {
        backend = Backends.open("cpu", BackendOptions.withThreads(1));
        model = DCFormer.demo(backend);
    }

    @AfterAll
    static void close() {
        model.close();
        backend.close();
    }

    private static String engine(String prompt, GenerationConfig config) {
        try (GenerationSession s = model.newSession()) {
            return s.generate(prompt, config);
        }
    }

    private static String transcriptAnswer(String question, int maxTokens) {
        return engine("User: " + question + "\nAssistant:", GenerationConfig.builder().maxNewTokens(maxTokens)
                .temperature(0.7).seed(5).stopStrings(List.of("\nUser:")).build());
    }

    @Test
    void aiServicesOverTheChatModel() {
        try (DCFormerChatModel chat = DCFormerChatModel.builder().model(model).temperature(0.7).seed(5).maxTokens(12).build()) {
            Assistant assistant = AiServices.create(Assistant.class, chat);
            String question = "Tom has a fox. What does Tom have?";
            assertThat(assistant.chat(question)).isEqualTo(transcriptAnswer(question, 12));
            ChatResponse r = chat.chat(SystemMessage.from("Be brief."), UserMessage.from("Hello"));
            assertThat(r.aiMessage().text()).isEqualTo(engine("Be brief.\n\nUser: Hello\nAssistant:", GenerationConfig.builder()
                    .maxNewTokens(12).temperature(0.7).seed(5).stopStrings(List.of("\nUser:")).build()));
            assertThat(r.tokenUsage().inputTokenCount())
                    .isEqualTo(model.tokenizer().encode("Be brief.\n\nUser: Hello\nAssistant:").length);
            assertThat(r.finishReason()).isIn(FinishReason.STOP, FinishReason.LENGTH);
        }
    }

    @Test
    void aiServicesOverTheStreamingChatModel() throws Exception {
        try (DCFormerStreamingChatModel chat = DCFormerStreamingChatModel.builder().model(model).temperature(0.7).seed(5)
                .maxTokens(12).build()) {
            StreamingAssistant assistant = AiServices.builder(StreamingAssistant.class).streamingChatModel(chat).build();
            String question = "Ruth has a cat. What does Ruth have?";
            StringBuilder pieces = new StringBuilder();
            CompletableFuture<ChatResponse> done = new CompletableFuture<>();
            assistant.chat(question).onPartialResponse(pieces::append).onCompleteResponse(done::complete)
                    .onError(done::completeExceptionally).start();
            ChatResponse r = done.get(5, TimeUnit.MINUTES);
            assertThat(pieces.toString()).isEqualTo(transcriptAnswer(question, 12));
            assertThat(r.aiMessage().text()).isEqualTo(pieces.toString());
            assertThat(r.tokenUsage().outputTokenCount()).isPositive();
        }
    }

    @Test
    void languageModelsCompletePlainPrompts() throws Exception {
        try (DCFormerLanguageModel lm = DCFormerLanguageModel.builder().model(model).maxTokens(12).stop(List.of("\n")).build();
             DCFormerStreamingLanguageModel slm = DCFormerStreamingLanguageModel.builder().model(model).maxTokens(12)
                     .stop(List.of("\n")).build()) {
            Response<String> r = lm.generate(DEMO_PROMPT);
            assertThat(r.content()).isEqualTo(" animal");
            assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
            StringBuilder pieces = new StringBuilder();
            CompletableFuture<Response<String>> done = new CompletableFuture<>();
            slm.generate(DEMO_PROMPT, new StreamingResponseHandler<>() {
                @Override
                public void onNext(String token) {
                    pieces.append(token);
                }

                @Override
                public void onComplete(Response<String> response) {
                    done.complete(response);
                }

                @Override
                public void onError(Throwable error) {
                    done.completeExceptionally(error);
                }
            });
            assertThat(done.get(5, TimeUnit.MINUTES).content()).isEqualTo(" animal");
            assertThat(pieces.toString()).isEqualTo(" animal");
        }
    }

    @Test
    void theBuilderLoadsTheDemoModelItself() {
        try (DCFormerLanguageModel lm = DCFormerLanguageModel.builder().backend("cpu").maxTokens(4).build()) {
            assertThat(lm.generate(DEMO_PROMPT).tokenUsage().outputTokenCount()).isBetween(1, 4);
        }
        assertThatThrownBy(() -> DCFormerLanguageModel.builder().model(model).maxTokens(5000).build().generate("Tom"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxTokens");
    }
}
