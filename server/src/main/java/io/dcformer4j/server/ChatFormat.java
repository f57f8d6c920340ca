package io.dcformer4j.server;

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

    /** A short name for logs and the README. */
    String name();
}
