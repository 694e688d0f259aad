package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;

/**
 * The exactly-once audit of one virtual user: one {@link SessionAudit} per session it held, in
 * order (a user whose session came back {@code session_expired} starts another). Not thread-safe:
 * its virtual user calls it under its own lock.
 */
public final class StreamAudit {

    private final TurnModel model;
    private final boolean allowGaps;
    private final List<SessionAudit> sessions = new ArrayList<>();

    /**
     * @param model     how the worker answers each message
     * @param allowGaps whether events announced lost by {@code replay_gap} are expected (see {@link SessionAudit})
     */
    public StreamAudit(TurnModel model, boolean allowGaps) {
        this.model = requireNonNull(model, "model");
        this.allowGaps = allowGaps;
    }

    /** The audit of a new session this user is opening. */
    public SessionAudit newSession() {
        SessionAudit session = new SessionAudit(model, allowGaps);
        sessions.add(session);
        return session;
    }

    /** Every session's audit, oldest first. */
    public List<SessionAudit> sessions() {
        return List.copyOf(sessions);
    }

    /** Finishes every session (those already finished, e.g. expired, stay as they are). */
    public void finish() {
        for (SessionAudit session : sessions) {
            session.finish(false);
        }
    }
}
