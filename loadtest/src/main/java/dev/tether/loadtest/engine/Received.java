package dev.tether.loadtest.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.audit.ConnectionAudit;
import dev.tether.loadtest.audit.SessionAudit;
import dev.tether.loadtest.audit.StreamAudit;
import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;

/**
 * What one session has received, across its connections: the exactly-once audit of its stream
 * ({@link SessionAudit}, one {@link ConnectionAudit} per connection), its messages in flight ({@link Turns}), the acks it owes, and the two things a frame can complete: a
 * cold worker becoming ready and a resume catching up. It records what it measures into the run's
 * stats and answers each frame with the {@link Effects} the session must act on; it never calls the
 * session. The frames of the connection lifecycle ({@code session_ready}, {@code refresh_required},
 * {@code session_replaced}) stay with the session.
 *
 * <p>Confined to the session's event loop.
 */
final class Received {

    /**
     * What a frame changed for the session.
     *
     * @param answered  a message got its result or will get none (refused, its worker crashed)
     * @param ack       the seq to acknowledge now, or -1
     * @param coldReady a cold session's worker became ready
     * @param caughtUp  a resume delivered everything its {@code session_ready} named
     */
    record Effects(boolean answered, long ack, boolean coldReady, boolean caughtUp) {
        static final Effects NONE = new Effects(false, -1, false, false);
    }

    private static final WireCodec CODEC = new WireCodec();

    private final RunStats stats;
    private final int ackEvery;
    private final StreamAudit audit;
    private final SessionAudit session;
    private final Turns turns;
    private long lastAcked;
    private long resumeTargetSeq = -1;
    private long resumeStartNanos;
    private long coldStartNanos = -1;
    private boolean endStatusSeen;
    private boolean endExpected;
    /** The gateway's last {@code status} said {@code hibernated}, and no message went out since. */
    private boolean asleep;

    private int sleeps;

    /**
     * @param ackEvery  acknowledge after this many new seqs (0: never)
     * @param model     how the target's worker answers a message, for the audit's predictions
     * @param allowGaps events announced lost by {@code replay_gap} are expected
     */
    Received(RunStats stats, int ackEvery, TurnModel model, boolean allowGaps) {
        this.stats = stats;
        this.ackEvery = ackEvery;
        this.turns = new Turns(stats);
        this.audit = new StreamAudit(model, allowGaps);
        this.session = audit.newSession();
    }

    /** The session's audit, in the form the reports read (one session: the engine never starts another). */
    StreamAudit audit() {
        return audit;
    }

    /** A connection to the session opens: the first ({@code resume} false) or a resume after {@code lastSeq}. */
    ConnectionAudit connect(boolean resume, long lastSeq) {
        return session.connect(resume, lastSeq);
    }

    /** {@code session_ready} on {@code c}; {@code askedFor} is the session a resume named (null for the first). */
    void ready(ConnectionAudit c, ServerMessage.SessionReady ready, String askedFor) {
        session.ready(c, ready, askedFor);
    }

    /** Connection {@code c} is over. */
    void ended(ConnectionAudit c) {
        session.ended(c);
    }

    /** Message {@code id} with {@code data} was written (again, for a resend). */
    void sent(String id, JsonNode data) {
        session.sent(id, data);
    }

    /**
     * Message {@code id} goes out now. To a session the gateway put to sleep it is the one that wakes
     * it: its first event counts as {@code wake_first_event} (counted {@code wake_messages}).
     *
     * @return whether it wakes the session
     */
    boolean sending(String id) {
        if (!asleep) {
            return false;
        }
        asleep = false;
        turns.wake(id);
        stats.count("wake_messages");
        return true;
    }

    /** Whether the session sleeps: its last {@code status} said {@code hibernated} and nothing was sent since. */
    boolean asleep() {
        return asleep;
    }

    /** How many times the gateway said {@code status hibernated} to this session. */
    int sleeps() {
        return sleeps;
    }

    /** The highest seq up to which everything was processed: what a resume asks after. */
    long lastProcessed() {
        return session.lastProcessed();
    }

    /** The run is over for this session: what is still open is unanswered. */
    void finish() {
        session.finish(false);
    }

    Turns turns() {
        return turns;
    }

    /** The first {@code session_ready} said {@code preparing}: ready_cold counts from {@code startNanos} to its {@code status idle}. */
    void awaitColdWorker(long startNanos) {
        coldStartNanos = startNanos;
    }

    /** A resume's {@code session_ready} named {@code lastSeq} as the server's newest; the resume began at {@code startNanos}. */
    Effects resumed(long lastSeq, long startNanos, long now) {
        stats.count("resumes");
        stats.add("missed_events", Math.max(0, lastSeq - session.lastProcessed()));
        resumeTargetSeq = lastSeq;
        resumeStartNanos = startNanos;
        return new Effects(false, -1, false, checkResumed(now));
    }

    /** Whether no resume is still replaying. */
    boolean caughtUp() {
        return resumeTargetSeq < 0;
    }

    /** {@code end} went out: its {@code status ended client_end} is expected, not an error. */
    void expectEnd() {
        endExpected = true;
    }

    /** Whether {@code status ended client_end} came after {@code end}. */
    boolean endStatusSeen() {
        return endStatusSeen;
    }

    /** A decoded frame of the gateway's protocol on {@code c}, other than the lifecycle ones the session handles. */
    Effects message(ConnectionAudit c, ServerMessage message, long now) {
        if (message instanceof ServerMessage.Sequenced sequenced) {
            return sequenced(c, sequenced, now);
        }
        if (message instanceof ServerMessage.Accepted accepted) {
            if (accepted.duplicate()) {
                stats.count("accepted_duplicate");
            }
            turns.accepted(accepted.id());
            session.accepted(accepted.id(), accepted.duplicate());
        } else if (message instanceof ServerMessage.ErrorFrame error) {
            stats.error("error_" + error.code().wire());
            if (error.id() != null && turns.refused(error.id())) {
                // Refused (queue_full, rate_limited, ...): never forwarded, so no result will come.
                session.refused(error.id());
                return new Effects(true, -1, false, false);
            }
        } else if (message instanceof ServerMessage.ReplayGap gap) {
            session.replayGap(c, gap.from(), gap.to());
        } else if (message instanceof ServerMessage.Pong) {
            session.pong(c);
        } else if (message instanceof ServerMessage.AuthOk) {
            stats.count("refreshes");
        } else if (message instanceof ServerMessage.Queued) {
            stats.count("queued"); // waiting for capacity (wait=1, contract 8.1)
        } else if (message instanceof ServerMessage.ShuttingDown) {
            stats.error("shutting_down");
        }
        return Effects.NONE;
    }

    /**
     * A frame of websocketd's line mode: one of the worker's event lines, as it wrote it. Lines carry
     * no seq and websocketd cannot resume, so they are measured, not audited.
     */
    Effects line(String text, long now) {
        JsonNode event;
        try {
            event = CODEC.mapper().readTree(text);
        } catch (Exception e) {
            stats.error("undecodable_frame");
            return Effects.NONE;
        }
        if ("error".equals(event.path("type").asText())) {
            stats.error("worker_error");
            return Effects.NONE;
        }
        return new Effects(event(event, now), -1, false, false);
    }

    private Effects sequenced(ConnectionAudit c, ServerMessage.Sequenced sequenced, long now) {
        if (session.sequenced(c, sequenced) == SessionAudit.Arrival.SEEN) {
            return Effects.NONE;
        }
        boolean answered = false;
        boolean coldReady = false;
        if (sequenced instanceof ServerMessage.Event event) {
            answered = event(event.event(), now);
        } else if (sequenced instanceof ServerMessage.Status status) {
            // Any other status (preparing after a wake, processing) says the session is awake again.
            asleep = status.state() == SessionState.HIBERNATED;
            if (asleep) {
                sleeps++;
                stats.count("hibernated");
            }
            if (status.state() == SessionState.IDLE && coldStartNanos >= 0) {
                stats.latency(Metric.READY_COLD, coldStartNanos, now);
                coldStartNanos = -1;
                coldReady = true;
            } else if (status.state() == SessionState.ENDED) {
                if (endExpected && "client_end".equals(status.reason())) {
                    endStatusSeen = true;
                } else {
                    stats.error("session_ended_" + status.reason());
                }
            }
        } else if (sequenced instanceof ServerMessage.Notice notice) {
            stats.count("notice_" + notice.code());
            if (("worker_crashed".equals(notice.code()) || "worker_killed".equals(notice.code()))
                    && notice.details() != null
                    && notice.details().hasNonNull("turn_id")) {
                // The audit accounts for the turn itself; here it stops waiting.
                answered = turns.refused(notice.details().get("turn_id").asText());
            }
        }
        boolean caughtUp = checkResumed(now);
        long ack = -1;
        if (ackEvery > 0 && session.lastProcessed() - lastAcked >= ackEvery) {
            lastAcked = session.lastProcessed();
            ack = lastAcked;
        }
        return new Effects(answered, ack, coldReady, caughtUp);
    }

    /** A worker event; true when it answered a message this session waited for. */
    private boolean event(JsonNode event, long now) {
        stats.event();
        JsonNode id = event.get("id");
        if (id == null || !id.isTextual()) {
            return false;
        }
        boolean result = "result".equals(event.path("type").asText());
        boolean waited = turns.event(id.textValue(), result, now);
        return waited && result;
    }

    private boolean checkResumed(long now) {
        if (resumeTargetSeq >= 0 && session.lastProcessed() >= resumeTargetSeq) {
            stats.latency(Metric.RESUME, resumeStartNanos, now);
            resumeTargetSeq = -1;
            return true;
        }
        return false;
    }
}
