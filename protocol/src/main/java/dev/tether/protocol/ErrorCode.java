package dev.tether.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Codes of {@code error} replies: a request failed and the connection stays open, unless a close
 * follows (then the {@link CloseCode} says why). {@link #retryable()} tells a client whether sending
 * the same request again later can succeed.
 */
public enum ErrorCode {
    /** The frame is not one JSON object (unparseable, trailing data, too deeply nested, duplicate keys). */
    INVALID_JSON("invalid_json", false),
    /** The frame has a {@code type} this protocol does not know. */
    UNKNOWN_TYPE("unknown_type", false),
    /** A field is missing, has the wrong JSON type or a value out of range. */
    INVALID_FIELD("invalid_field", false),
    /** A binary frame arrived; the protocol is text only. */
    BINARY_NOT_SUPPORTED("binary_not_supported", false),
    /** The client sends faster than the session's rate limit. */
    RATE_LIMITED("rate_limited", true),
    /** The session's inbound queue is full; retry once a turn has finished. */
    QUEUE_FULL("queue_full", true),
    /** The worker is busy and this session does not queue (queue bound 0), or the session is ending. */
    SESSION_BUSY("session_busy", true),
    /** A sequence number beyond the newest one the session has produced. */
    INVALID_SEQUENCE("invalid_sequence", false),
    /** Resume of a session that does not exist or is not the caller's. */
    SESSION_NOT_FOUND("session_not_found", false),
    /** Resume of a session that ended within the tombstone window; {@code reason} says why. */
    SESSION_EXPIRED("session_expired", false),
    /** The connection's token has expired; send {@code auth_refresh}, then retry. */
    TOKEN_EXPIRED("token_expired", true),
    /** An {@code auth_refresh} was refused; the previous credentials stay in force. */
    AUTH_REFRESH_FAILED("auth_refresh_failed", false),
    /** The gateway is draining and takes no new messages. */
    SHUTTING_DOWN("shutting_down", true),
    /** A {@code wait=1} connection waited longer than {@code sessions.admission.max_wait}; close 1013 follows. */
    ADMISSION_TIMEOUT("admission_timeout", true),
    /** A {@code message} payload is larger than the configured maximum. */
    MESSAGE_TOO_LARGE("message_too_large", false),
    /**
     * The session was stored (in the shared session store) in a format this node cannot read
     * (contract 1.2, section 8.8); it is left as it is for a node that can. Close 4004 follows.
     */
    SESSION_INCOMPATIBLE("session_incompatible", false),
    /** A viewer's connection sent {@code message}, {@code interrupt}, {@code respond}, {@code end} or {@code extend} (contract 7.4). */
    READ_ONLY("read_only", false),
    /** A {@code respond} for a request that was already resolved (answered, timed out or cancelled). */
    REQUEST_RESOLVED("request_resolved", false),
    /** A {@code respond} for a request this session never had. */
    REQUEST_NOT_FOUND("request_not_found", false),
    /**
     * An {@code extend} that was not granted (contract 1.2, section 8.3): the operator allows no
     * extensions, or the session has used them all, or it is already ending; the message says which.
     */
    EXTENSION_REFUSED("extension_refused", false);

    private final String wire;
    private final boolean retryable;

    ErrorCode(String wire, boolean retryable) {
        this.wire = wire;
        this.retryable = retryable;
    }

    /** The code on the wire. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /** Whether the same request can succeed if sent again later. */
    public boolean retryable() {
        return retryable;
    }

    @JsonCreator
    public static ErrorCode fromWire(String wire) {
        for (ErrorCode code : values()) {
            if (code.wire.equals(wire)) {
                return code;
            }
        }
        throw new IllegalArgumentException("unknown error code: " + wire);
    }
}
