package io.dcformer4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dcformer4j.tokenizer.TinyTokenizers;
import io.dcformer4j.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The generation loop on a scripted fake model and the 97-token test tokenizer. */
class GeneratorTest {
    private static final Tokenizer TOK = TinyTokenizers.of(TinyTokenizers.ascii97());

    /** Emits a fixed script: the logits of each step make the next script token the argmax. */
    private static final class Scripted implements LogitsModel {
        final int[] script;
        final int capacity;
        int position;
        int step;
        final List<Integer> fed = new ArrayList<>();

        Scripted(String text, int capacity) {
            this.script = TOK.encode(text);
            this.capacity = capacity;
        }

        @Override
        public float[] prefill(int[] tokens) {
            position += tokens.length;
            return next();
        }

        @Override
        public float[] decode(int token) {
            fed.add(token);
            position++;
            return next();
        }

        @Override
        public int remainingContext() {
            return capacity - position;
        }

        private float[] next() {
            float[] l = new float[TOK.vocabSize()];
            l[step < script.length ? script[step] : 0] = 10;
            step++;
            return l;
        }
    }

    @Test
    void greedyFollowsTheModelAndStopsAtMaxNewTokens() {
        Scripted m = new Scripted("hello world", 100);
        List<String> pieces = new ArrayList<>();
        GenerationResult r = Generator.generate(m, TOK, TOK.encode("x"), GenerationConfig.greedy(5),
                (t, id) -> pieces.add(t), null);
        assertThat(r.text()).isEqualTo("hello");
        assertThat(String.join("", pieces)).isEqualTo("hello");
        assertThat(r.stopReason()).isEqualTo(StopReason.MAX_NEW_TOKENS);
        assertThat(r.tokens()).hasSize(5);
        assertThat(m.fed).hasSize(4); // the last pick is not fed back
    }

    @Test
    void aHugeMaxNewTokensIsABoundNotASize() {
        // 300 tokens of a 2^31 − 1 bound: the token buffer grows past its first sizes instead of being made whole
        Scripted m = new Scripted("a".repeat(400), 301);
        GenerationResult r = Generator.generate(m, TOK, TOK.encode("x"), GenerationConfig.greedy(Integer.MAX_VALUE),
                null, null);
        assertThat(r.stopReason()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(r.tokens()).hasSize(301);
        assertThat(r.text()).isEqualTo("a".repeat(301));
    }

    @Test
    void specialTokenStops() {
        Scripted m = new Scripted("ab", 100); // then token 0 = <|endoftext|>
        GenerationResult r = Generator.generate(m, TOK, TOK.encode("x"), GenerationConfig.greedy(10), null, null);
        assertThat(r.text()).isEqualTo("ab");
        assertThat(r.stopReason()).isEqualTo(StopReason.STOP_TOKEN);
        assertThat(r.tokens()).containsExactly(TOK.encode("ab")[0], TOK.encode("ab")[1], 0);
    }

    @Test
    void stopTokensAndStopStrings() {
        int b = TOK.encode("b")[0];
        GenerationConfig byToken = GenerationConfig.builder().maxNewTokens(10).stopTokens(Set.of(b)).build();
        assertThat(Generator.generate(new Scripted("aabcc", 100), TOK, TOK.encode("x"), byToken, null, null).text())
                .isEqualTo("aa");

        List<String> pieces = new ArrayList<>();
        GenerationConfig byString = GenerationConfig.builder().maxNewTokens(20).stopStrings(List.of("END", "xyz")).build();
        GenerationResult r = Generator.generate(new Scripted("one EN two END three", 100), TOK, TOK.encode("x"), byString,
                (t, id) -> pieces.add(t), null);
        assertThat(r.text()).isEqualTo("one EN two ");
        assertThat(r.stopReason()).isEqualTo(StopReason.STOP_STRING);
        assertThat(String.join("", pieces)).isEqualTo("one EN two ");
        assertThat(pieces).noneMatch(p -> p.contains("END"));
    }

    @Test
    void heldBackStopPrefixIsReleasedAtTheEnd() {
        GenerationConfig c = GenerationConfig.builder().maxNewTokens(4).stopStrings(List.of("cdX")).build();
        List<String> pieces = new ArrayList<>();
        GenerationResult r = Generator.generate(new Scripted("abcd", 100), TOK, TOK.encode("x"), c,
                (t, id) -> pieces.add(t), null);
        assertThat(r.text()).isEqualTo("abcd");
        assertThat(String.join("", pieces)).isEqualTo("abcd");
        assertThat(pieces.get(2)).isEmpty(); // "c" might start "cdX"
    }

    @Test
    void contextFullStops() {
        GenerationResult r = Generator.generate(new Scripted("abcdef", 4), TOK, TOK.encode("xy"), GenerationConfig.greedy(10),
                null, null);
        assertThat(r.stopReason()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(r.text()).isEqualTo("abc");
    }

    @Test
    void cancellationFromAnotherThread() throws Exception {
        CancellationToken cancel = new CancellationToken();
        CountDownLatch third = new CountDownLatch(1);
        Thread canceller = new Thread(() -> {
            try {
                if (third.await(10, TimeUnit.SECONDS)) {
                    cancel.cancel();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        canceller.start();
        List<Integer> seen = new ArrayList<>();
        GenerationResult r = Generator.generate(new Scripted("abcdefghij", 100), TOK, TOK.encode("x"),
                GenerationConfig.greedy(10), (t, id) -> {
                    seen.add(id);
                    if (seen.size() == 3) {
                        third.countDown();
                        try {
                            canceller.join(10_000);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }, cancel);
        assertThat(r.stopReason()).isEqualTo(StopReason.CANCELLED);
        assertThat(r.text()).isEqualTo("abc");
    }

    @Test
    void badPromptsAreRejected() {
        assertThatThrownBy(() -> Generator.generate(new Scripted("a", 100), TOK, new int[0], GenerationConfig.greedy(1), null, null))
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> Generator.generate(new Scripted("a", 2), TOK, TOK.encode("abc"), GenerationConfig.greedy(1), null, null))
                .hasMessageContaining("3 tokens").hasMessageContaining("room for 2");
    }
}
