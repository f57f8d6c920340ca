package io.dcformer4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import io.dcformer4j.generate.TokenListener;
import java.util.List;

/**
 * A LangChain4j {@link ChatModel} running a DCFormer in process. Messages become a plain transcript
 * ({@code User: ...} / {@code Assistant: ...} lines, the format the server uses for base models) and the
 * answer is the model's continuation up to the next {@code "\nUser:"}.
 *
 * <pre>{@code
 * try (DCFormerChatModel model = DCFormerChatModel.builder().maxTokens(20).build()) {   // the demo model
 *     String answer = model.chat("Who has a fox?");
 * }
 * }</pre>
 */
public final class DCFormerChatModel implements ChatModel, AutoCloseable {
    private final DCFormerEngine engine;

    private DCFormerChatModel(Builder b) {
        engine = new DCFormerEngine(b);
    }

    /** A builder with the defaults (demo model, greedy). */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        DCFormerEngine.Outcome o = engine.generate(ChatTranscript.render(request.messages()), engine.merge(request.parameters()),
                List.of(ChatTranscript.STOP), TokenListener.NONE);
        return ChatResponse.builder().aiMessage(AiMessage.from(o.text())).tokenUsage(o.usage())
                .finishReason(o.finishReason()).modelName(engine.modelName()).build();
    }

    /** Closes the model when this object loaded it. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds a {@link DCFormerChatModel}. */
    public static final class Builder extends DCFormerModelBuilder<Builder, DCFormerChatModel> {
        private Builder() {
        }

        @Override
        public DCFormerChatModel build() {
            return new DCFormerChatModel(this);
        }
    }
}
