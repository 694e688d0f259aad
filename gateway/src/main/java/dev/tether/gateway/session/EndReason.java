package dev.tether.gateway.session;

import java.util.Optional;

/**
 * Why a session ended, as sent in {@code status.reason} and kept in its tombstone for
 * {@code session_expired}.
 */
public enum EndReason {
    /** No connection came back within {@code sessions.reconnect_window}. */
    RECONNECT_WINDOW_EXPIRED("reconnect_window_expired"),
    /** No worker could be had for the session, or one never became ready. */
    WORKER_FAILED("worker_failed"),
    /** The worker had to be restarted more than {@code limits.max_restarts} times within {@code limits.restart_window}. */
    RESTART_LIMIT("restart_limit"),
    /** The session reached {@code limits.max_duration} (plus the grace for a running turn). */
    DURATION_LIMIT("duration_limit"),
    /** No client message for {@code limits.idle_timeout} while idle. */
    IDLE_TIMEOUT("idle_timeout"),
    /** No first client message within {@code limits.first_message_timeout}. */
    FIRST_MESSAGE_TIMEOUT("first_message_timeout"),
    /** The gateway stopped. */
    SHUTDOWN("shutdown"),
    /** An operator ended it through the admin API. */
    ENDED_BY_OPERATOR("ended_by_operator"),
    /** Its owner sent {@code end} (contract 1.2, section 8.7). */
    CLIENT_END("client_end");

    private final String wire;

    EndReason(String wire) {
        this.wire = wire;
    }

    /** The reason named {@code wire}, or empty for one this version does not know. */
    public static Optional<EndReason> fromWire(String wire) {
        for (EndReason reason : values()) {
            if (reason.wire.equals(wire)) {
                return Optional.of(reason);
            }
        }
        return Optional.empty();
    }

    /** The reason on the wire. */
    public String wire() {
        return wire;
    }
}
