/**
 * LangChain4j models over the embedding API, in process: {@code ChatModel}, {@code StreamingChatModel},
 * {@code LanguageModel} and {@code StreamingLanguageModel} backed by a {@code DCFormer}.
 */
module io.dcformer4j.langchain4j {
    requires transitive io.dcformer4j.model;
    requires transitive langchain4j.core;

    exports io.dcformer4j.langchain4j;
}
