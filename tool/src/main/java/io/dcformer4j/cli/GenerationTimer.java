package io.dcformer4j.cli;

import io.dcformer4j.generate.GenerationResult;
import java.util.Locale;

/**
 * The {@code --stats} figures of one generation, split as llama.cpp users read them: load time, prompt eval
 * (the prompt's tokens up to the first generated token: the time to first token) and eval (every later
 * generated token). The first piece of text marks the first token.
 */
final class GenerationTimer {
    private final long start = System.nanoTime();
    private long firstToken = -1;

    /** Called with every streamed piece; remembers when the first one arrived. */
    void piece() {
        if (firstToken < 0) {
            firstToken = System.nanoTime();
        }
    }

    /** The stats lines for a finished generation. */
    String report(GenerationResult r, double loadMs, long seed, String backend) {
        long end = System.nanoTime();
        long first = firstToken < 0 ? end : firstToken;
        double promptMs = (first - start) / 1e6;
        double evalMs = (end - first) / 1e6;
        int generated = r.tokens().length;
        int evalTokens = Math.max(0, generated - 1);
        return String.format(Locale.ROOT, """
                load time     = %10.2f ms
                prompt eval   = %10.2f ms / %5d tokens (%8.2f tokens/s), time to first token %.2f ms
                eval          = %10.2f ms / %5d tokens (%8.2f tokens/s)
                total         = %10.2f ms / %5d tokens, stopped by %s, backend %s, seed %d
                """, loadMs, promptMs, r.promptTokens(), rate(r.promptTokens(), promptMs), promptMs,
                evalMs, evalTokens, rate(evalTokens, evalMs), promptMs + evalMs, r.promptTokens() + generated,
                r.stopReason(), backend, seed);
    }

    private static double rate(int tokens, double ms) {
        return ms <= 0 ? 0 : tokens * 1000.0 / ms;
    }
}
