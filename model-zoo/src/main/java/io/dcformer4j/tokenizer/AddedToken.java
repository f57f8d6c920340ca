package io.dcformer4j.tokenizer;

/**
 * An entry of {@code added_tokens}: matched in the text before normalization and BPE and always emitted as
 * one id.
 *
 * @param id         its id
 * @param content    its text
 * @param special    whether it is a control token (end of text, chat markers): skippable when decoding
 * @param singleWord whether it only matches when not inside a word
 * @param lstrip     whether whitespace before it is absorbed into it
 * @param rstrip     whether whitespace after it is absorbed into it
 * @param normalized whether it is matched in normalized rather than raw text
 */
public record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip,
                         boolean rstrip, boolean normalized) {
}
