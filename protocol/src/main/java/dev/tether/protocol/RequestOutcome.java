package dev.tether.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How a worker's request to the user was resolved ({@code request_resolved.outcome}, contract 7.3). */
public enum RequestOutcome {
    /** A client's {@code respond} was the first answer; the worker got it. */
    ANSWERED("answered"),
    /** Nobody answered within {@code limits.request_timeout}; the worker was told so. */
    TIMEOUT("timeout"),
    /** The turn that asked ended or was interrupted, or the worker that asked is gone. */
    CANCELLED("cancelled");

    private final String wire;

    RequestOutcome(String wire) {
        this.wire = wire;
    }

    /** The name on the wire. */
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static RequestOutcome fromWire(String wire) {
        for (RequestOutcome outcome : values()) {
            if (outcome.wire.equals(wire)) {
                return outcome;
            }
        }
        throw new IllegalArgumentException("unknown request outcome: " + wire);
    }
}
