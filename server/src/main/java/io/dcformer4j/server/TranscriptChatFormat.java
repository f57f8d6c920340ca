package io.dcformer4j.server;

import java.util.List;

/**
 * The chat format for base models whose tokenizer files carry no chat template: a plain transcript.
 *
 * <pre>
 * {system or developer text}\n\n        (when there is one; several are joined by blank lines)
 * User: {text}\n
 * Assistant: {text}\n
 * ...
 * Assistant:
 * </pre>
 *
 * The answer is the model's continuation after {@code "Assistant:"} exactly as generated (usually starting
 * with a space, which byte-level BPE attaches to the next word), ended by {@code "\nUser:"} or {@code max_tokens}.
 */
final class TranscriptChatFormat implements ChatFormat {

    @Override
    public String render(List<Message> messages) {
        StringBuilder system = new StringBuilder();
        StringBuilder turns = new StringBuilder();
        for (Message m : messages) {
            switch (m.role()) {
                case "system", "developer" -> {
                    if (!system.isEmpty()) {
                        system.append("\n\n");
                    }
                    system.append(m.content());
                }
                case "user" -> turns.append("User: ").append(m.content()).append('\n');
                case "assistant" -> turns.append("Assistant: ").append(m.content()).append('\n');
                default -> throw new IllegalArgumentException("unsupported role " + m.role());
            }
        }
        StringBuilder out = new StringBuilder();
        if (!system.isEmpty()) {
            out.append(system).append("\n\n");
        }
        return out.append(turns).append("Assistant:").toString();
    }

    @Override
    public List<String> stopStrings() {
        return List.of("\nUser:");
    }

    @Override
    public String name() {
        return "transcript (no chat template in the tokenizer files)";
    }
}
