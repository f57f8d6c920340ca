package io.dcformer4j.server;

import io.dcformer4j.generate.CancellationToken;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes server-sent events ({@code data: ...\n\n}), flushing each so the client sees tokens as they come.
 * The first failed write means the client went away: the generation is cancelled (which ends it and frees
 * its session) and nothing more is written.
 */
final class SseWriter {
    private final OutputStream out;
    private final CancellationToken cancel;
    private volatile boolean broken;

    SseWriter(OutputStream out, CancellationToken cancel) {
        this.out = out;
        this.cancel = cancel;
    }

    void send(String data) {
        if (broken) {
            return;
        }
        try {
            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException | RuntimeException e) {
            // Jetty reports a closed connection as an IOException (EofException) or, once the response is
            // aborted, as an IllegalStateException: either way the client is gone.
            broken = true;
            cancel.cancel();
        }
    }

    /** The OpenAI end-of-stream marker. */
    void done() {
        send("[DONE]");
    }

    /**
     * Completes the response (the last chunk goes out now, not after the handler returns), so that a
     * shutdown that waits for running requests never cuts one off between its last event and its end.
     */
    void close() {
        try {
            out.close();
        } catch (IOException | RuntimeException e) {
            broken = true;
        }
    }

    /** Whether the client disconnected. */
    boolean broken() {
        return broken;
    }
}
