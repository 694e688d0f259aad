package dev.tether.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The states a session reports in {@code session_ready.state} and {@code status.state}. */
public enum SessionState {
    /** The session has no ready worker yet; messages are queued. */
    PREPARING("preparing"),
    /** The worker is ready and no turn is running. */
    IDLE("idle"),
    /** A turn is running; further messages are queued. */
    PROCESSING("processing"),
    /** The worker is being replaced; messages are queued and reach the new worker. */
    RESTARTING("restarting"),
    /**
     * The session sleeps without a worker (contract 1.2, 8.9): its next message wakes it on a new
     * worker resumed from its checkpoint, through {@link #PREPARING}.
     */
    HIBERNATED("hibernated"),
    /** The session is over; a close 4011 follows. */
    ENDED("ended");

    private final String wire;

    SessionState(String wire) {
        this.wire = wire;
    }

    /** The name on the wire. */
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static SessionState fromWire(String wire) {
        for (SessionState state : values()) {
            if (state.wire.equals(wire)) {
                return state;
            }
        }
        throw new IllegalArgumentException("unknown session state: " + wire);
    }
}
