package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.protocol.ErrorCode;

/**
 * A client frame refused at the codec, passed on instead of a message so the session answers it in
 * order (and counts it against the rate limit like any frame): undecodable, or a {@code message}
 * whose payload is too large. {@code id} is the client's message id when the frame had one (only
 * for {@code message_too_large}), else null.
 */
public record InboundFailure(ErrorCode code, String message, String id) {
    public InboundFailure {
        requireNonNull(code, "code");
        requireNonNull(message, "message");
    }

    /** A failure that answers no particular message (a frame that could not be decoded). */
    public InboundFailure(ErrorCode code, String message) {
        this(code, message, null);
    }
}
