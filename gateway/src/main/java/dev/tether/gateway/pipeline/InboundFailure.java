package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.protocol.ErrorCode;

/** A client frame that could not be decoded, passed on instead of a message so the session answers it in order. */
public record InboundFailure(ErrorCode code, String message) {
    public InboundFailure {
        requireNonNull(code, "code");
        requireNonNull(message, "message");
    }
}
