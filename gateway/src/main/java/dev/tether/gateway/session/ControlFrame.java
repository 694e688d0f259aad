package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

/**
 * A WebSocket frame that is not a whole message but still costs the gateway work, handed to the
 * session so that it counts against the session's frame rate like every other frame: a ping (to be
 * answered with a pong carrying {@link #payload}), a pong, or a continuation fragment of a
 * fragmented message. Immutable.
 *
 * @param kind which frame it was
 * @param payload the ping's application data (at most 125 bytes); empty for the others
 */
public record ControlFrame(Kind kind, byte[] payload) {

    /** The kinds of frame counted this way. */
    public enum Kind {
        PING,
        PONG,
        CONTINUATION
    }

    /** A pong from the client. */
    public static final ControlFrame PONG = new ControlFrame(Kind.PONG, new byte[0]);
    /** A continuation fragment (the message it belongs to is counted when it is complete). */
    public static final ControlFrame CONTINUATION = new ControlFrame(Kind.CONTINUATION, new byte[0]);

    public ControlFrame {
        requireNonNull(kind, "kind");
        requireNonNull(payload, "payload");
    }

    /** A ping with {@code payload}, to be echoed in the pong. */
    public static ControlFrame ping(byte[] payload) {
        return new ControlFrame(Kind.PING, payload);
    }
}
