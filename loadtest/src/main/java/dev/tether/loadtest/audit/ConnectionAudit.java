package dev.tether.loadtest.audit;

/**
 * One connection's view of a session's stream, as {@link SessionAudit} checks it: what the client
 * asked for ({@code last_seq}), what {@code session_ready} promised ({@code last_seq}, the end of the
 * replay) and the seq the connection must deliver next. A handle the client keeps per connection;
 * not thread-safe (used under its virtual user's lock).
 */
public final class ConnectionAudit {

    final int id;
    /** A resume ({@code ?session=...}); false for a new session's first connection. */
    final boolean resume;
    /** The {@code last_seq} the connection asked for (0 for a new session). */
    final long requestedLastSeq;
    /**
     * The highest seq the client had seen when it opened this connection: the gateway's newest seq in
     * {@code session_ready} cannot be below it. (Not the highest seen when {@code session_ready} is
     * read: another connection racing for the session may have delivered newer seqs meanwhile.)
     */
    final long highestAtOpen;
    /** {@code session_ready.last_seq}; -1 until it came. */
    long readyLastSeq = -1;
    /** The seq this connection must deliver next. */
    long next;
    /** The seq delivered last on this connection; 0 before the first. */
    long last;

    boolean sawSequenced;
    boolean tailChecked;
    boolean ignoredLastSeqReported;
    /** New events (not seen before) replayed on this resume: events that crossed a cut. */
    long replayedNew;
    /** Events seen before and replayed again on this resume (compared with the first delivery). */
    long replayedSeen;

    boolean ended;

    ConnectionAudit(int id, boolean resume, long requestedLastSeq, long highestAtOpen) {
        this.id = id;
        this.resume = resume;
        this.requestedLastSeq = requestedLastSeq;
        this.highestAtOpen = highestAtOpen;
        this.next = requestedLastSeq + 1;
    }

    /** Whether {@code seq} is part of this connection's replay rather than live output. */
    public boolean replays(long seq) {
        return resume && seq <= readyLastSeq;
    }

    /** Whether the connection has delivered everything up to its {@code session_ready.last_seq}. */
    public boolean caughtUp() {
        return readyLastSeq >= 0 && next > readyLastSeq;
    }

    /** The {@code last_seq} it asked for (0 for a new session). */
    public long requestedLastSeq() {
        return requestedLastSeq;
    }

    /** {@code session_ready.last_seq}, or -1 before it came. */
    public long readyLastSeq() {
        return readyLastSeq;
    }

    /** New events this resume replayed: events that crossed a cut. */
    public long replayedNew() {
        return replayedNew;
    }

    @Override
    public String toString() {
        return "connection " + id + (resume ? " (resume after " + requestedLastSeq + ")" : " (new session)");
    }
}
