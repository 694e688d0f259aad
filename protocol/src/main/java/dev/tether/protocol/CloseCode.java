package dev.tether.protocol;

import java.util.Optional;

/**
 * WebSocket close codes the gateway uses, with the reason text it sends and whether a client should
 * reconnect (and resume) after seeing it.
 */
public enum CloseCode {
    NORMAL(1000, "normal", false),
    /** The server is going away (drain finished); reconnect and resume, possibly elsewhere. */
    GOING_AWAY(1001, "server going away", true),
    /** RFC 6455 protocol violation (bad masking, reserved bits, control frame misuse). */
    PROTOCOL_ERROR(1002, "protocol error", false),
    /** RFC 6455: a text frame that is not valid UTF-8. */
    INVALID_PAYLOAD(1007, "invalid utf-8 in text frame", false),
    FRAME_TOO_LARGE(1009, "frame too large", false),
    /** Try again later: a {@code wait=1} connection waited longer than {@code sessions.admission.max_wait}. */
    TRY_AGAIN_LATER(1013, "try again later", true),
    /** A newer connection took the session. Reconnecting would steal it back: do not. */
    SESSION_REPLACED(4001, "session replaced by a newer connection", false),
    SESSION_NOT_FOUND(4004, "session not found or expired", false),
    POLICY_VIOLATION(4008, "policy violation", false),
    INVALID_SEQUENCE(4009, "invalid sequence on resume", false),
    /** The token expired and was not refreshed; reconnect with a fresh token and resume. */
    TOKEN_EXPIRED(4010, "token expired", true),
    SESSION_ENDED(4011, "session ended", false);

    private final int code;
    private final String reason;
    private final boolean reconnect;

    CloseCode(int code, String reason, boolean reconnect) {
        this.code = code;
        this.reason = reason;
        this.reconnect = reconnect;
    }

    /** The numeric close status. */
    public int code() {
        return code;
    }

    /** The reason text sent in the close frame. */
    public String reason() {
        return reason;
    }

    /** Whether a client should reconnect and resume after this close. */
    public boolean reconnect() {
        return reconnect;
    }

    /** The constant for a numeric close status, if the gateway uses it. */
    public static Optional<CloseCode> of(int code) {
        for (CloseCode closeCode : values()) {
            if (closeCode.code == code) {
                return Optional.of(closeCode);
            }
        }
        return Optional.empty();
    }
}
