package dev.tether.protocol;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What a connection may do with its session, as {@code session_ready.role} says (contract 7.4). */
public enum Role {
    /** The session's owner: one connection at a time, the newest wins; sends messages and answers requests. */
    OWNER("owner"),
    /** A read-only watcher: replay and live traffic; its {@code message}, {@code interrupt} and {@code respond} get {@code read_only}. */
    VIEWER("viewer");

    private final String wire;

    Role(String wire) {
        this.wire = wire;
    }

    /** The name on the wire (and in the upgrade's {@code role} parameter). */
    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Role fromWire(String wire) {
        for (Role role : values()) {
            if (role.wire.equals(wire)) {
                return role;
            }
        }
        throw new IllegalArgumentException("unknown role: " + wire);
    }
}
