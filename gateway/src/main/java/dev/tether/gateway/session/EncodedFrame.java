package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

/**
 * A server frame already encoded to UTF-8 JSON, written as-is. History messages are encoded once,
 * kept in the replay buffer in this form and written from it on every (re)delivery.
 */
public record EncodedFrame(byte[] json) {
    public EncodedFrame {
        requireNonNull(json, "json");
    }
}
