package io.dcformer4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.stream.Stream;

/** A streaming completion client for the load test: reads the server-sent events and times them. */
final class SseClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One streamed reply. */
    record Reply(int status, String id, String text, int promptTokens, int completionTokens, String finish,
                 long ttftNanos, long totalNanos, boolean done, int events) {
    }

    private SseClient() {
    }

    static Reply stream(HttpClient http, String base, String body) throws Exception {
        long start = System.nanoTime();
        HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<Stream<String>> r = http.send(req, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            r.body().close();
            return new Reply(r.statusCode(), null, null, -1, -1, null, -1, System.nanoTime() - start, false, 0);
        }
        StringBuilder text = new StringBuilder();
        String id = null;
        String finish = null;
        int prompt = -1;
        int completion = -1;
        long ttft = -1;
        boolean done = false;
        int events = 0;
        try (Stream<String> lines = r.body()) {
            Iterator<String> it = lines.iterator();
            while (it.hasNext()) {
                String line = it.next();
                if (!line.startsWith("data: ")) {
                    continue;
                }
                events++;
                String data = line.substring(6);
                if (data.equals("[DONE]")) {
                    done = true;
                    continue;
                }
                JsonNode chunk = JSON.readTree(data);
                if (id == null) {
                    id = chunk.get("id").asText();
                } else if (!id.equals(chunk.get("id").asText())) {
                    throw new AssertionError("chunk of another request: " + chunk.get("id") + " in " + id);
                }
                JsonNode choices = chunk.get("choices");
                if (choices != null && !choices.isEmpty()) {
                    String piece = choices.get(0).get("text").asText();
                    if (!piece.isEmpty() && ttft < 0) {
                        ttft = System.nanoTime() - start;
                    }
                    text.append(piece);
                    JsonNode f = choices.get(0).get("finish_reason");
                    if (f != null && !f.isNull()) {
                        finish = f.asText();
                    }
                }
                JsonNode usage = chunk.get("usage");
                if (usage != null && !usage.isNull()) {
                    prompt = usage.get("prompt_tokens").asInt();
                    completion = usage.get("completion_tokens").asInt();
                }
            }
        }
        return new Reply(200, id, text.toString(), prompt, completion, finish, ttft, System.nanoTime() - start, done, events);
    }

    /**
     * Sends a streaming request on a raw socket, waits for the first event, then drops the connection (with a
     * reset, as a crashed or impatient client would).
     */
    static void disconnectAfterFirstEvent(int port, String body) throws Exception {
        byte[] payload = body.getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + payload.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(payload);
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder seen = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0) {
                seen.append((char) c);
                if (seen.indexOf("data: ") >= 0) {
                    break;
                }
            }
            if (seen.indexOf("data: ") < 0) {
                throw new AssertionError("no event before the connection closed: " + seen);
            }
            socket.setSoLinger(true, 0);
        }
    }
}
