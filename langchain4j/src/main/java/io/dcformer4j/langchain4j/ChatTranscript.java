package io.dcformer4j.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.UnsupportedFeatureException;
import java.util.List;

/**
 * The plain transcript format for base models (the same one the server uses when a model has no chat
 * template): system text, then {@code User: ...} and {@code Assistant: ...} lines, ending with
 * {@code Assistant:}; the answer ends at {@code "\nUser:"}.
 */
final class ChatTranscript {
    /** Ends the assistant's turn. */
    static final String STOP = "\nUser:";

    private ChatTranscript() {
    }

    static String render(List<ChatMessage> messages) {
        StringBuilder system = new StringBuilder();
        StringBuilder turns = new StringBuilder();
        for (ChatMessage m : messages) {
            switch (m) {
                case SystemMessage s -> {
                    if (!system.isEmpty()) {
                        system.append("\n\n");
                    }
                    system.append(s.text());
                }
                case UserMessage u -> turns.append("User: ").append(text(u)).append('\n');
                case AiMessage a -> {
                    if (a.hasToolExecutionRequests()) {
                        throw new UnsupportedFeatureException("tool calls are not supported by dcformer4j models");
                    }
                    turns.append("Assistant: ").append(a.text() == null ? "" : a.text()).append('\n');
                }
                default -> throw new UnsupportedFeatureException("message type " + m.type()
                        + " is not supported by dcformer4j models (system, user and AI text messages only)");
            }
        }
        StringBuilder out = new StringBuilder();
        if (!system.isEmpty()) {
            out.append(system).append("\n\n");
        }
        return out.append(turns).append("Assistant:").toString();
    }

    private static String text(UserMessage u) {
        StringBuilder text = new StringBuilder();
        for (Content c : u.contents()) {
            if (!(c instanceof TextContent t)) {
                throw new UnsupportedFeatureException("content type " + c.type() + " is not supported: dcformer4j models read text only");
            }
            text.append(t.text());
        }
        return text.toString();
    }
}
