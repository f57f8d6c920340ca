package io.dcformer4j.langchain4j;

import dev.langchain4j.model.StreamingResponseHandler;
import dev.langchain4j.model.language.StreamingLanguageModel;
import dev.langchain4j.model.output.Response;
import java.util.List;

/** A LangChain4j {@link StreamingLanguageModel}: plain completion streamed from a platform thread of its own. */
public final class DCFormerStreamingLanguageModel implements StreamingLanguageModel, AutoCloseable {
    private final DCFormerEngine engine;

    private DCFormerStreamingLanguageModel(Builder b) {
        engine = new DCFormerEngine(b);
    }

    /** A builder with the defaults (demo model, greedy). */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public void generate(String prompt, StreamingResponseHandler<String> handler) {
        Thread.ofPlatform().name("dcformer4j-generate").daemon().start(() -> {
            DCFormerEngine.Outcome o;
            try {
                o = engine.generate(prompt, engine.defaults(), List.of(), (piece, token) -> handler.onNext(piece));
            } catch (RuntimeException | Error e) {
                handler.onError(e);
                return;
            }
            handler.onComplete(Response.from(o.text(), o.usage(), o.finishReason()));
        });
    }

    /** Closes the model when this object loaded it. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds a {@link DCFormerStreamingLanguageModel}. */
    public static final class Builder extends DCFormerModelBuilder<Builder, DCFormerStreamingLanguageModel> {
        private Builder() {
        }

        @Override
        public DCFormerStreamingLanguageModel build() {
            return new DCFormerStreamingLanguageModel(this);
        }
    }
}
