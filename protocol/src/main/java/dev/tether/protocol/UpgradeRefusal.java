package dev.tether.protocol;

/**
 * Why an upgrade request was answered with a plain HTTP response instead of a WebSocket. The body is
 * {@link RefusalBody}; none of these ever says whether a session exists.
 */
public enum UpgradeRefusal {
    /** Missing, malformed, expired, not-yet-valid or badly signed token, or a disallowed algorithm. */
    UNAUTHORIZED(401, "unauthorized", false),
    /** An {@code Origin} header that is not in the allow-list. */
    ORIGIN_FORBIDDEN(403, "origin_forbidden", false),
    /** The caller's per-user connection or session limit is reached. Carries {@code Retry-After}. */
    TOO_MANY_CONNECTIONS(429, "too_many_connections", true),
    /** The gateway's session or worker limit is reached. Carries {@code Retry-After}. */
    AT_CAPACITY(503, "at_capacity", true),
    /** The gateway is draining. Carries {@code Retry-After}. */
    SHUTTING_DOWN(503, "shutting_down", true),
    /** Extension: a path other than the WebSocket endpoint. */
    NOT_FOUND(404, "not_found", false),
    /** Extension: a request to the WebSocket endpoint that is not a valid WebSocket upgrade. */
    BAD_REQUEST(400, "bad_request", false);

    private final int status;
    private final String code;
    private final boolean retryAfter;

    UpgradeRefusal(int status, String code, boolean retryAfter) {
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    /** The HTTP status. */
    public int status() {
        return status;
    }

    /** The {@code error} field of the body. */
    public String code() {
        return code;
    }

    /** Whether the response carries a {@code Retry-After} header. */
    public boolean retryAfter() {
        return retryAfter;
    }
}
