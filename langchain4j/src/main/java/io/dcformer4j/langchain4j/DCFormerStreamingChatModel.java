package io.dcformer4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import java.util.List;

/**
 * A LangChain4j {@link StreamingChatModel} running a DCFormer in process: the same transcript format as
 * {@link DCFormerChatModel}; each call generates on its own platform thread (compute-bound work would pin a virtual thread's carrier) and hands text pieces (whole
 * characters, never part of the stop string) to the handler as they are produced.
 */
public final class DCFormerStreamingChatModel implements StreamingChatModel, AutoCloseable {
    private final DCFormerEngine engine;

    private DCFormerStreamingChatModel(Builder b) {
        engine = new DCFormerEngine(b);
    }

    /** A builder with the defaults (demo model, greedy). */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        Thread.ofPlatform().name("dcformer4j-chat").daemon().start(() -> {
            DCFormerEngine.Outcome o;
            try {
                o = engine.generate(ChatTranscript.render(request.messages()), engine.merge(request.parameters()),
                        List.of(ChatTranscript.STOP), (piece, token) -> handler.onPartialResponse(piece));
            } catch (RuntimeException | Error e) {
                handler.onError(e);
                return;
            }
            handler.onCompleteResponse(ChatResponse.builder().aiMessage(AiMessage.from(o.text())).tokenUsage(o.usage())
                    .finishReason(o.finishReason()).modelName(engine.modelName()).build());
        });
    }

    /** Closes the model when this object loaded it. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds a {@link DCFormerStreamingChatModel}. */
    public static final class Builder extends DCFormerModelBuilder<Builder, DCFormerStreamingChatModel> {
        private Builder() {
        }

        @Override
        public DCFormerStreamingChatModel build() {
            return new DCFormerStreamingChatModel(this);
        }
    }
}
