package io.dcformer4j.langchain4j;

import dev.langchain4j.model.language.LanguageModel;
import dev.langchain4j.model.output.Response;
import io.dcformer4j.generate.TokenListener;
import java.util.List;

/** A LangChain4j {@link LanguageModel}: plain completion of a prompt by a DCFormer, in process. */
public final class DCFormerLanguageModel implements LanguageModel, AutoCloseable {
    private final DCFormerEngine engine;

    private DCFormerLanguageModel(Builder b) {
        engine = new DCFormerEngine(b);
    }

    /** A builder with the defaults (demo model, greedy). */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public Response<String> generate(String prompt) {
        DCFormerEngine.Outcome o = engine.generate(prompt, engine.defaults(), List.of(), TokenListener.NONE);
        return Response.from(o.text(), o.usage(), o.finishReason());
    }

    /** Closes the model when this object loaded it. */
    @Override
    public void close() {
        engine.close();
    }

    /** Builds a {@link DCFormerLanguageModel}. */
    public static final class Builder extends DCFormerModelBuilder<Builder, DCFormerLanguageModel> {
        private Builder() {
        }

        @Override
        public DCFormerLanguageModel build() {
            return new DCFormerLanguageModel(this);
        }
    }
}
