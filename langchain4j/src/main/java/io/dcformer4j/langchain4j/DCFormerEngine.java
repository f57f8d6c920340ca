package io.dcformer4j.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import io.dcformer4j.DCFormer;
import io.dcformer4j.GenerationSession;
import io.dcformer4j.api.Backend;
import io.dcformer4j.api.Backends;
import io.dcformer4j.generate.GenerationConfig;
import io.dcformer4j.generate.GenerationResult;
import io.dcformer4j.generate.TokenListener;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared core of the four LangChain4j models: the loaded model, the default settings, and one
 * generation per call in its own {@link GenerationSession} (so calls from many threads run concurrently).
 */
final class DCFormerEngine implements AutoCloseable {
    private final DCFormer model;
    private final Backend ownedBackend;
    private final boolean ownsModel;
    private final Settings defaults;
    private final String modelName;

    /** Default generation settings; every field may be overridden per request where LangChain4j allows it. */
    record Settings(double temperature, double topP, int topK, Integer maxTokens, long seed, List<String> stop) {
    }

    DCFormerEngine(DCFormerModelBuilder<?, ?> b) {
        if (b.model != null) {
            model = b.model;
            ownedBackend = null;
            ownsModel = false;
        } else {
            Path dir = b.modelPath != null ? b.modelPath : DCFormer.demoDirectory("dcformer");
            Backend backend = Backends.open(b.backend);
            try {
                model = DCFormer.load(dir, backend);
            } catch (RuntimeException | Error e) {
                backend.close();
                throw e;
            }
            ownedBackend = backend;
            ownsModel = true;
        }
        defaults = new Settings(b.temperature, b.topP, b.topK, b.maxTokens, b.seed, List.copyOf(b.stop));
        modelName = b.modelName != null ? b.modelName
                : b.modelPath == null && b.model == null ? "dcformer4j-demo" : model.directory().getFileName().toString();
    }

    String modelName() {
        return modelName;
    }

    Settings defaults() {
        return defaults;
    }

    /** What one generation produced, in LangChain4j's terms. */
    record Outcome(String text, TokenUsage usage, FinishReason finishReason) {
    }

    /** Generates a continuation of {@code prompt}, streaming non-empty pieces to {@code listener}. */
    Outcome generate(String prompt, Settings s, List<String> extraStops, TokenListener listener) {
        int[] tokens = model.tokenizer().encode(prompt);
        int room = model.config().blockSize() - tokens.length;
        if (room < 1) {
            throw new IllegalArgumentException("the prompt has " + tokens.length + " tokens; the model's context is "
                    + model.config().blockSize());
        }
        if (s.maxTokens() != null && s.maxTokens() > room) {
            throw new IllegalArgumentException("maxTokens " + s.maxTokens() + " does not fit: the prompt has " + tokens.length
                    + " tokens and the context " + model.config().blockSize());
        }
        List<String> stops = new ArrayList<>(s.stop());
        for (String extra : extraStops) {
            if (!stops.contains(extra)) {
                stops.add(extra);
            }
        }
        GenerationConfig config = GenerationConfig.builder()
                .maxNewTokens(s.maxTokens() != null ? s.maxTokens() : room)
                .temperature(s.temperature()).topP(s.topP()).topK(s.topK()).seed(s.seed())
                .stopStrings(stops).build();
        try (GenerationSession session = model.newSession()) {
            GenerationResult r = session.run(tokens, config, (piece, token) -> {
                if (!piece.isEmpty()) {
                    listener.onToken(piece, token);
                }
            }, null);
            FinishReason finish = switch (r.stopReason()) {
                case STOP_TOKEN, STOP_STRING -> FinishReason.STOP;
                case MAX_NEW_TOKENS, CONTEXT_FULL -> FinishReason.LENGTH;
                case CANCELLED -> FinishReason.OTHER;
            };
            return new Outcome(r.text(), new TokenUsage(r.promptTokens(), r.tokens().length), finish);
        }
    }

    /** The defaults overridden by a chat request's parameters. */
    Settings merge(ChatRequestParameters p) {
        if (p == null) {
            return defaults;
        }
        if (p.frequencyPenalty() != null && p.frequencyPenalty() != 0 || p.presencePenalty() != null && p.presencePenalty() != 0) {
            throw new dev.langchain4j.exception.UnsupportedFeatureException("frequency and presence penalties are not supported");
        }
        if (p.toolSpecifications() != null && !p.toolSpecifications().isEmpty()) {
            throw new dev.langchain4j.exception.UnsupportedFeatureException("tools are not supported by dcformer4j models");
        }
        return new Settings(
                p.temperature() != null ? p.temperature() : defaults.temperature(),
                p.topP() != null ? p.topP() : defaults.topP(),
                p.topK() != null ? p.topK() : defaults.topK(),
                p.maxOutputTokens() != null ? p.maxOutputTokens() : defaults.maxTokens(),
                defaults.seed(),
                p.stopSequences() != null && !p.stopSequences().isEmpty() ? p.stopSequences() : defaults.stop());
    }

    @Override
    public void close() {
        if (ownsModel) {
            model.close();
            if (ownedBackend != null) {
                ownedBackend.close();
            }
        }
    }
}
