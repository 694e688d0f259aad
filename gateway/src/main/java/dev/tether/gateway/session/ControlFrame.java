package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

/**
 * A WebSocket frame that is not a whole message but still costs the gateway work, handed to the
 * session so that it counts against the session's frame rate like every other frame: a ping (to be
 * answered with a pong carrying {@link #payload}), a pong, or a continuation fragment of a
 * fragmented message. Immutable: nothing changes the payload once it is handed over (a class, not a
 * record, because a record would compare the array by identity and a copy per ping buys nothing).
 */
public final class ControlFrame {

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

    private final Kind kind;
    private final byte[] payload;

    /** Takes {@code payload} as it is, without a copy (the ping's bytes, echoed once in the pong). */
    public ControlFrame(Kind kind, byte[] payload) {
        this.kind = requireNonNull(kind, "kind");
        this.payload = requireNonNull(payload, "payload");
    }

    /** Which frame it was. */
    public Kind kind() {
        return kind;
    }

    /** The ping's application data (at most 125 bytes), not a copy: never to be changed; empty for the others. */
    public byte[] payload() {
        return payload;
    }

    /** A ping with {@code payload}, to be echoed in the pong. */
    public static ControlFrame ping(byte[] payload) {
        return new ControlFrame(Kind.PING, payload);
    }
}
