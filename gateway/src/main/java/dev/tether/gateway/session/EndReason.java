package dev.tether.gateway.session;

/**
 * Why a session ended, as sent in {@code status.reason} and kept in its tombstone for
 * {@code session_expired}.
 */
public enum EndReason {
    /** No connection came back within {@code sessions.reconnect_window}. */
    RECONNECT_WINDOW_EXPIRED("reconnect_window_expired"),
    /** No worker could be had for the session, or it failed beyond recovery. */
    WORKER_FAILED("worker_failed"),
    /** The gateway stopped. */
    SHUTDOWN("shutdown");

    private final String wire;

    EndReason(String wire) {
        this.wire = wire;
    }

    /** The reason on the wire. */
    public String wire() {
        return wire;
    }
}
