package io.dcformer4j.server;

/**
 * A request that ends in an OpenAI-style error: the HTTP status, the error {@code type}, the offending
 * {@code param} (a request field, or null) and a machine-readable {@code code} (or null).
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Integer retryAfterSeconds;

    ApiException(int status, String type, String message, String param, String code, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400: a field is missing, of the wrong type or out of range; the message names the field. */
    static ApiException badField(String field, String message) {
        return new ApiException(400, "invalid_request_error", message, field, null, null);
    }

    /** 400: the body is not a JSON object we can read. */
    static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request_error", message, null, null, null);
    }

    /** 400: the prompt (plus max_tokens) does not fit the context. */
    static ApiException contextLength(String field, String message) {
        return new ApiException(400, "invalid_request_error", message, field, "context_length_exceeded", null);
    }

    /** 401: no or a wrong API key. */
    static ApiException unauthorized(String message) {
        return new ApiException(401, "invalid_request_error", message, null, "invalid_api_key", null);
    }

    /** 404: an unknown model. */
    static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error", "The model '" + model + "' does not exist",
                "model", "model_not_found", null);
    }

    /** 404: an unknown path. */
    static ApiException notFound(String method, String path) {
        return new ApiException(404, "invalid_request_error", "Unknown request URL: " + method + " " + path, null,
                "unknown_url", null);
    }

    /** 413: the request body is larger than the server accepts. */
    static ApiException tooLarge(long limit) {
        return new ApiException(413, "invalid_request_error", "The request body is larger than " + limit + " bytes",
                null, "request_too_large", null);
    }

    /** 429: the admission queue is full; the client should retry after {@code seconds}. */
    static ApiException queueFull(int seconds) {
        return new ApiException(429, "rate_limit_exceeded",
                "The server is busy: every generation slot is taken and the queue is full; retry later", null,
                "queue_full", seconds);
    }

    /** 503: the model is loading or the server is shutting down. */
    static ApiException unavailable(String message, int retryAfterSeconds) {
        return new ApiException(503, "service_unavailable", message, null, "service_unavailable", retryAfterSeconds);
    }

    /** 500: an unexpected failure (the message says what). */
    static ApiException internal(String message) {
        return new ApiException(500, "server_error", message, null, null, null);
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The OpenAI error type. */
    public String type() {
        return type;
    }

    /** The request field at fault, or null. */
    public String param() {
        return param;
    }

    /** The error code, or null. */
    public String code() {
        return code;
    }

    /** Seconds for a {@code Retry-After} header, or null. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
