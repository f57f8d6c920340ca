package io.dcformer4j.server;

import java.nio.file.Path;
import java.util.List;

/** Turns a chat transcript into the prompt text a model continues, and says where its answer ends. */
interface ChatFormat {

    /** One chat message: role ({@code system}, {@code developer}, {@code user}, {@code assistant}) and text. */
    record Message(String role, String content) {
    }

    /** The prompt: the transcript followed by the opening of the assistant's answer. */
    String render(List<Message> messages);

    /** Stop strings that end the assistant's turn (added to the request's own). */
    List<String> stopStrings();

    /** A short name for logs and {@code /v1/models}. */
    String name();

    /**
     * The format of model directory {@code dir}: its own chat template when its tokenizer files carry one
     * ({@link ChatTemplateSource}), else the plain transcript.
     *
     * @throws IllegalArgumentException naming the file when a template file is there but unreadable
     */
    static ChatFormat forModel(Path dir) {
        return ChatTemplateSource.find(dir).<ChatFormat>map(JinjaChatFormat::new).orElseGet(TranscriptChatFormat::new);
    }
}
