package dev.tether.loadtest.audit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exactly-once audit of one session, across every connection a client made to it. It does not
 * trust the gateway's numbering: it remembers what each seq carried when first seen ({@link
 * SeqLedger}) and compares every later delivery of it, checks each connection's stream against
 * what the connection asked for and what its {@code session_ready} promised ({@link
 * ConnectionAudit}), and checks every turn against the stream its message asked for ({@link
 * TurnAudit}). Each broken promise is a named {@link ViolationKind}.
 *
 * <p>Not thread-safe: its virtual user calls it under its own lock, in the order frames arrived.
 */
public final class SessionAudit {

    /** What a numbered message was to the client. */
    public enum Arrival {
        /** Not seen before, live output. */
        NEW_LIVE,
        /** Not seen before, in a resume's replay: it crossed a cut. */
        NEW_REPLAYED,
        /** Seen before (a replay below what the client had processed, or a repeat); compared, not processed again. */
        SEEN
    }

    private static final int MAX_VIOLATIONS = 100;

    private final boolean allowGaps;
    private final SeqLedger ledger = new SeqLedger();
    private final TurnAudit turns;
    private final GapTracker gaps = new GapTracker();
    private final List<Violation> violations = new ArrayList<>();
    private final Map<String, Long> violationKinds = new TreeMap<>();
    /** While two connections are open (a race): which connection got each live seq. */
    private final Map<Long, Integer> liveBy = new HashMap<>();

    private String sessionId;
    private int connections;
    private int openConnections;
    private long lastProcessed;
    private long violationCount;
    private long events;
    private long replayedNew;
    private long replayedSeen;
    private long resumes;
    private long resumesReplayingNew;
    private long lost;
    private long gapCount;
    private long gapsOnlySeen;
    /** The {@code turn} of the last result that carried one (the demo worker's count, kept across workers and nodes); 0: none yet. */
    private long lastTurn;
    /** Turns that may be missing before the next result's: lost with a node ({@code session_moved} naming one), or in a gap. */
    private long turnsExcused;

    private long turnsChecked;
    private boolean expired;
    private boolean finished;

    /**
     * @param model     how the session's worker answers a message
     * @param allowGaps events announced lost by {@code replay_gap} are expected (a replay buffer shrunk on
     *                  purpose): reported, not a violation
     */
    public SessionAudit(TurnModel model, boolean allowGaps) {
        this.allowGaps = allowGaps;
        this.turns = new TurnAudit(model, this::violation);
    }

    /** A connection to this session opens: a new session's first ({@code resume} false, {@code lastSeq} 0) or a resume. */
    public ConnectionAudit connect(boolean resume, long lastSeq) {
        openConnections++;
        return new ConnectionAudit(++connections, resume, lastSeq, ledger.highest());
    }

    /** {@code session_ready} on {@code c}; {@code askedFor} is the session id a resume named (null for a new session). */
    public void ready(ConnectionAudit c, ServerMessage.SessionReady ready, String askedFor) {
        if (sessionId == null) {
            sessionId = ready.sessionId();
        }
        if (askedFor != null && !askedFor.equals(ready.sessionId())) {
            violation(
                    ViolationKind.SESSION_CHANGED,
                    c + " asked for session " + askedFor + " and got " + ready.sessionId());
        }
        if (c.resume != ready.resumed()) {
            violation(ViolationKind.NOT_RESUMED, c + " got session_ready with resumed: " + ready.resumed());
        }
        if (ready.lastSeq() < c.highestAtOpen) {
            violation(
                    ViolationKind.SEQ_REUSED,
                    c + ": session_ready.last_seq " + ready.lastSeq() + " is below seq " + c.highestAtOpen
                            + ", delivered before this connection was opened");
        }
        c.readyLastSeq = ready.lastSeq();
        if (c.resume) {
            resumes++;
        }
    }

    /** {@code replay_gap {from, to}} on {@code c}: those seqs were evicted and will never come. */
    public void replayGap(ConnectionAudit c, long from, long to) {
        if (c.sawSequenced
                || from != c.requestedLastSeq + 1
                || to < from
                || (c.readyLastSeq >= 0 && to > c.readyLastSeq)) {
            violation(
                    ViolationKind.BAD_REPLAY_GAP,
                    c + ": replay_gap " + from + ".." + to + (c.sawSequenced ? " after the replay began" : "")
                            + " (session_ready.last_seq " + c.readyLastSeq + ")");
            return;
        }
        c.next = to + 1;
        long unseen = 0;
        for (long seq = from; seq <= to; seq++) {
            if (ledger.get(seq) == SeqLedger.UNSEEN) {
                ledger.put(seq, SeqLedger.LOST);
                unseen++;
            }
        }
        gapCount++;
        if (unseen == 0) {
            gapsOnlySeen++;
            return;
        }
        lost += unseen;
        // Any number of results may be in the gap, and their turns with them.
        turnsExcused = Long.MAX_VALUE / 2;
        GapTracker.Gap gap = gaps.add(from, to, unseen);
        turns.gap(gap);
        advance();
        if (!allowGaps) {
            violation(
                    ViolationKind.REPLAY_GAP,
                    c + ": seqs " + from + ".." + to + " evicted, " + unseen
                            + " of them never delivered (pending messages: " + abbreviate(turns.open()) + ")");
        }
    }

    /** A numbered message on {@code c}: checked, compared with what its seq carried before, and, when new, audited as output. */
    public Arrival sequenced(ConnectionAudit c, ServerMessage.Sequenced message) {
        long seq = message.seq();
        checkOrder(c, seq);
        c.sawSequenced = true;
        long hash = ContentHash.of(message);
        long before = ledger.get(seq);
        boolean replay = c.replays(seq);
        checkOwners(c, seq, replay);
        if (before != SeqLedger.UNSEEN && before != SeqLedger.LOST) {
            if (before != hash) {
                violation(
                        replay ? ViolationKind.REPLAY_MISMATCH : ViolationKind.SEQ_REUSED,
                        c + ": seq " + seq
                                + (replay
                                        ? " replayed with other content than first delivered: "
                                        : " delivered live again with other content: ")
                                + describe(message));
            }
            if (replay) {
                c.replayedSeen++;
                replayedSeen++;
            }
            return Arrival.SEEN;
        }
        if (before == SeqLedger.LOST) {
            violation(
                    ViolationKind.BAD_REPLAY_GAP,
                    c + ": seq " + seq + " delivered after a replay_gap announced it lost");
        }
        ledger.put(seq, hash);
        advance();
        events++;
        audit(message);
        if (replay) {
            if (c.replayedNew++ == 0) {
                resumesReplayingNew++;
            }
            replayedNew++;
            return Arrival.NEW_REPLAYED;
        }
        return Arrival.NEW_LIVE;
    }

    private void checkOrder(ConnectionAudit c, long seq) {
        if (c.resume && seq <= c.requestedLastSeq && !c.ignoredLastSeqReported) {
            c.ignoredLastSeqReported = true;
            violation(
                    ViolationKind.IGNORED_LAST_SEQ,
                    c + ": seq " + seq + " replayed, at or below its last_seq " + c.requestedLastSeq);
            c.next = seq + 1;
        } else if (seq == c.next) {
            c.next++;
        } else if (seq > c.next) {
            boolean tail = c.resume && c.readyLastSeq >= c.next && c.readyLastSeq < seq;
            violation(
                    tail ? ViolationKind.SHORT_TAIL : ViolationKind.SEQ_GAP,
                    c + ": expected seq " + c.next + ", got " + seq
                            + " (seqs " + c.next + ".." + (seq - 1) + " missing"
                            + (tail ? ", the end of a replay up to " + c.readyLastSeq : "") + ", no replay_gap)");
            c.next = seq + 1;
        } else if (seq == c.last) {
            violation(ViolationKind.SEQ_REPEATED, c + ": seq " + seq + " twice in a row");
        } else {
            violation(ViolationKind.SEQ_OUT_OF_ORDER, c + ": seq " + seq + " after seq " + c.last);
        }
        c.last = seq;
    }

    private void checkOwners(ConnectionAudit c, long seq, boolean replay) {
        if (openConnections < 2 || replay) {
            return;
        }
        Integer other = liveBy.putIfAbsent(seq, c.id);
        if (other != null && other != c.id) {
            violation(
                    ViolationKind.TWO_OWNERS, "seq " + seq + " delivered live on connection " + other + " and on " + c);
        }
    }

    private void audit(ServerMessage.Sequenced message) {
        if (message instanceof ServerMessage.Event event) {
            turns.event(event.event(), event.seq());
            checkTurnCount(event);
        } else if (message instanceof ServerMessage.Notice notice
                && notice.details() != null
                && (notice.code().equals("worker_crashed")
                        || notice.code().equals("worker_killed")
                        || notice.code().equals("session_moved"))) {
            JsonNode turn = notice.details().get("turn_id");
            if (turn != null && turn.isTextual()) {
                // session_moved names the turn that died with its node: lost like a crashed worker's, its count maybe
                // saved.
                turns.crashed(turn.textValue(), notice.seq());
                if (notice.code().equals("session_moved")) {
                    turnsExcused++;
                }
            }
        }
    }

    /**
     * A result's {@code turn} (the demo worker counts the session's turns, checkpointed, so that the
     * count goes on across workers and nodes) must be the last one's plus one: none repeated, none
     * skipped unless a turn was reported lost or a gap may hold results.
     */
    private void checkTurnCount(ServerMessage.Event event) {
        JsonNode turn = event.event().get("turn");
        if (!"result".equals(event.event().path("type").asText()) || turn == null || !turn.canConvertToLong()) {
            return;
        }
        long t = turn.asLong();
        turnsChecked++;
        if (t <= lastTurn) {
            violation(
                    ViolationKind.TURN_REPEATED,
                    "seq " + event.seq() + ": result of turn " + t + " after turn " + lastTurn + " (" + describe(event)
                            + ")");
        } else if (t > lastTurn + 1 + turnsExcused) {
            violation(
                    ViolationKind.TURN_SKIPPED,
                    "seq " + event.seq() + ": result of turn " + t + " after turn " + lastTurn
                            + (turnsExcused > 0 ? " (" + turnsExcused + " reported lost)" : "") + " (" + describe(event)
                            + ")");
        }
        lastTurn = Math.max(lastTurn, t);
        turnsExcused = 0;
    }

    /** Results whose {@code turn} count was checked. */
    public long turnsChecked() {
        return turnsChecked;
    }

    /**
     * {@code pong} on {@code c}: the gateway answered a request sent after {@code session_ready}, so it
     * had written the whole replay before; every seq up to {@code session_ready.last_seq} must have come.
     */
    public void pong(ConnectionAudit c) {
        if (c.tailChecked || c.readyLastSeq < 0) {
            return;
        }
        c.tailChecked = true;
        if (c.next <= c.readyLastSeq) {
            violation(
                    ViolationKind.SHORT_TAIL,
                    c + ": answered a later ping with seqs " + c.next + ".." + c.readyLastSeq
                            + " of its session_ready.last_seq " + c.readyLastSeq + " missing");
        }
    }

    /** {@code c} is over (cut by the client, or closed): turns open now may be interrupted by the gateway. */
    public void ended(ConnectionAudit c) {
        if (c.ended) {
            return;
        }
        c.ended = true;
        openConnections--;
        if (openConnections < 2) {
            liveBy.clear();
        }
        turns.reconnected();
    }

    private void advance() {
        while (ledger.get(lastProcessed + 1) != SeqLedger.UNSEEN) {
            lastProcessed++;
        }
    }

    // ---- messages ----

    /** Message {@code id} with {@code data} went out on this session (again, for a resend: nothing changes). */
    public void sent(String id, JsonNode data) {
        turns.sent(id, data, ledger.highest());
    }

    /** The client sent {@code id} again after its {@code accepted}: the gateway must answer {@code duplicate: true}. */
    public void resentAfterAccept(String id) {
        turns.resentAfterAccept(id);
    }

    public void accepted(String id, boolean duplicate) {
        turns.accepted(id, duplicate);
    }

    /** An {@code error} naming {@code id} refused it ({@code queue_full} ...); the error itself is the caller's to count. */
    public void refused(String id) {
        turns.refused(id);
    }

    /** Whether {@code id} has its answer: a result, a crash that accounts for it, or a refusal. */
    public boolean answered(String id) {
        return turns.over(id);
    }

    /** The highest seq up to which every seq was processed (or announced lost): what to resume after. */
    public long lastProcessed() {
        return lastProcessed;
    }

    /** Records a violation found by the client around this session (an expiry too early, ...). */
    public void violation(ViolationKind kind, String detail) {
        violationCount++;
        violationKinds.merge(kind.wire(), 1L, Long::sum);
        if (violations.size() < MAX_VIOLATIONS) {
            violations.add(new Violation(sessionId(), kind.wire(), detail));
        }
    }

    /**
     * The session is over for this client: ended, left, or found {@code session_expired} (then the
     * answers still open went with it, by design). Idempotent.
     */
    public void finish(boolean sessionExpired) {
        if (finished) {
            return;
        }
        finished = true;
        expired = sessionExpired;
        turns.finish(sessionExpired);
    }

    private static String describe(ServerMessage.Sequenced message) {
        return TurnShape.quote(message.toString());
    }

    private static String abbreviate(List<String> ids) {
        return ids.isEmpty()
                ? "none"
                : String.join(", ", ids.subList(0, Math.min(10, ids.size()))) + (ids.size() > 10 ? ", ..." : "");
    }

    // ---- figures ----

    public String sessionId() {
        return sessionId == null ? "(no session_ready yet)" : sessionId;
    }

    public boolean expired() {
        return expired;
    }

    public long events() {
        return events;
    }

    public long replayedNew() {
        return replayedNew;
    }

    public long replayedSeen() {
        return replayedSeen;
    }

    public long resumes() {
        return resumes;
    }

    public long resumesReplayingNew() {
        return resumesReplayingNew;
    }

    public long lost() {
        return lost;
    }

    public long gaps() {
        return gapCount;
    }

    public long gapsOnlySeen() {
        return gapsOnlySeen;
    }

    public List<LostRange> lostRanges() {
        return gaps.ranges(sessionId());
    }

    public long messagesSent() {
        return turns.sent();
    }

    public long answeredTurns() {
        return turns.answered();
    }

    public long deltasChecked() {
        return turns.deltasChecked();
    }

    public long unpredictableTurns() {
        return turns.unpredictable();
    }

    public long crashedTurns() {
        return turns.crashed();
    }

    public long interruptedTurns() {
        return turns.interrupted();
    }

    public long refusedMessages() {
        return turns.refused();
    }

    public long duplicatesAcknowledged() {
        return turns.duplicatesAcknowledged();
    }

    public long gapHitMessages() {
        return turns.gapHit();
    }

    public long expiredMessages() {
        return turns.expired();
    }

    public List<Violation> violations() {
        return List.copyOf(violations);
    }

    public Map<String, Long> violationKinds() {
        return Map.copyOf(violationKinds);
    }

    public long violationCount() {
        return violationCount;
    }
}
