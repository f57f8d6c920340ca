package io.dcformer4j.eval;

import io.dcformer4j.generate.Sampler;
import io.dcformer4j.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code [ bracketed ]} answers of a synthetic compositional text (spec §8, recommended protocol): the
 * {@code "[ "} and {@code " ]"} markers are removed, the text is tokenized once, and an answer span is correct
 * iff the argmax at the position before each of its tokens is that token. A span's tokens are those covering
 * the answer and the space before it (byte-level BPE attaches that space to the first answer token).
 */
public final class BracketedAnswers {
    private static final Pattern ANSWER = Pattern.compile("\\[ (.+?) \\]");

    private BracketedAnswers() {
    }

    /**
     * One text with its markers removed.
     *
     * @param text    the text as the model reads it
     * @param answers character ranges {start, end} of the answers in {@code text}
     */
    public record Sample(String text, List<int[]> answers) {
        /** Freezes the list. */
        public Sample {
            answers = List.copyOf(answers);
        }
    }

    /** Removes the markers of {@code marked} and records where each answer is. */
    public static Sample parse(String marked) {
        StringBuilder sb = new StringBuilder();
        List<int[]> answers = new ArrayList<>();
        Matcher m = ANSWER.matcher(marked);
        int last = 0;
        while (m.find()) {
            sb.append(marked, last, m.start());
            int start = sb.length();
            sb.append(m.group(1));
            answers.add(new int[] {start, sb.length()});
            last = m.end();
        }
        sb.append(marked.substring(last));
        return new Sample(sb.toString(), answers);
    }

    /**
     * Token index ranges {from, to} covering each answer (and the space before it) in {@code ids}, the
     * tokenization of {@code sample.text()}.
     *
     * @throws IllegalArgumentException when the tokens do not spell the text byte for byte
     */
    public static List<int[]> answerTokens(Tokenizer tok, Sample sample, int[] ids) {
        long[] ends = new long[ids.length]; // [T] byte offset after each token
        long pos = 0;
        for (int i = 0; i < ids.length; i++) {
            pos += tok.tokenBytes(ids[i]).length;
            ends[i] = pos;
        }
        String text = sample.text();
        if (pos != text.getBytes(StandardCharsets.UTF_8).length) {
            throw new IllegalArgumentException("the tokenizer does not reproduce the text byte for byte, so answer spans "
                    + "cannot be located: " + text.strip().lines().findFirst().orElse(""));
        }
        List<int[]> out = new ArrayList<>();
        for (int[] a : sample.answers()) {
            int charStart = a[0] > 0 && text.charAt(a[0] - 1) == ' ' ? a[0] - 1 : a[0];
            long start = utf8Length(text, charStart);
            long end = utf8Length(text, a[1]);
            int from = -1;
            int to = -1;
            for (int i = 0; i < ids.length; i++) {
                long tokStart = i == 0 ? 0 : ends[i - 1];
                if (tokStart < end && ends[i] > start) {
                    if (from < 0) {
                        from = i;
                    }
                    to = i + 1;
                }
            }
            out.add(new int[] {from, to});
        }
        return out;
    }

    /** Whether every token of {@code ids[from..to)} is the argmax of the logits at the position before it. */
    public static boolean correct(int[] ids, float[][] logits, int from, int to) {
        if (from < 1) {
            return false; // nothing predicts the first token
        }
        for (int p = from; p < to; p++) {
            if (Sampler.argmax(logits[p - 1]) != ids[p]) {
                return false;
            }
        }
        return true;
    }

    /**
     * The log-probability of the answer {@code ids[from..to)} given what precedes it: the sum over its tokens of
     * {@code log softmax(logits[p - 1])[ids[p]]}, in double precision (negative infinity when nothing predicts
     * the first token, {@code from < 1}).
     */
    public static double logProb(int[] ids, float[][] logits, int from, int to) {
        if (from < 1) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (int p = from; p < to; p++) {
            sum += TextScorer.logProb(logits[p - 1], ids[p]);
        }
        return sum;
    }

    private static long utf8Length(String s, int chars) {
        return s.substring(0, chars).getBytes(StandardCharsets.UTF_8).length;
    }
}
