package dev.tether.loadtest.audit;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The exactly-once audit of one virtual user's stream, across all its connections to one session:
 * <ul>
 *   <li>seqs are delivered to the application contiguously from 1, each exactly once; a seq at or
 *       below the last one processed that comes again after a reconnect is dropped and counted
 *       ({@link #duplicatesDropped()}), one that repeats on the <em>same</em> connection is a
 *       violation ({@link #SEQ_REPEATED});</li>
 *   <li>a jump in seqs is a violation ({@link #SEQ_GAP}) unless a {@code replay_gap} announced
 *       exactly those seqs first ({@link #lost()} counts them);</li>
 *   <li>every message id sent is answered by exactly one {@code result} ({@link #DUPLICATE_RESULT},
 *       {@link #UNEXPECTED_RESULT}, {@link #UNANSWERED}), or is accounted lost by a
 *       {@code worker_crashed} notice naming it in {@code details.turn_id}.</li>
 * </ul>
 *
 * <p>Not thread-safe: a virtual user calls it under its own lock, in the order frames arrived.
 */
public final class StreamAudit {

    /** A seq jumped without a replay_gap announcing the missing ones. */
    public static final String SEQ_GAP = "seq_gap";
    /** The same seq (or an older one) arrived twice on one connection. */
    public static final String SEQ_REPEATED = "seq_repeated";
    /** A replay_gap that does not start right after the last processed seq. */
    public static final String BAD_GAP = "bad_replay_gap";
    /** A second result for a message id: the turn ran, or was delivered, twice. */
    public static final String DUPLICATE_RESULT = "duplicate_result";
    /** A result for an id this user never sent. */
    public static final String UNEXPECTED_RESULT = "unexpected_result";
    /** A sent id that got neither a result nor a worker_crashed notice. */
    public static final String UNANSWERED = "unanswered";

    private static final int MAX_VIOLATIONS = 100;

    private String session = "(no session yet)";
    private long lastProcessed;
    private long lastOnConnection;
    private long delivered;
    private long duplicatesDropped;
    private long duplicatesDelivered;
    private long lost;
    private long gaps;
    private long crashedTurns;
    private final Map<String, Integer> results = new LinkedHashMap<>();
    private final Set<String> crashed = new LinkedHashSet<>();
    private final Set<String> refused = new LinkedHashSet<>();
    private long refusedMessages;
    private final List<Violation> violations = new ArrayList<>();
    private long violationCount;

    /** The session id to name in violations (known from the first {@code session_ready}). */
    public void session(String sessionId) {
        this.session = requireNonNull(sessionId, "sessionId");
    }

    /** A new connection (first or resumed) begins: per-connection ordering restarts. */
    public void connected() {
        lastOnConnection = 0;
    }

    /** The highest seq processed so far: what to send as {@code last_seq} on resume. */
    public long lastProcessed() {
        return lastProcessed;
    }

    /** A message id was sent (a resend of the same id does not count again). */
    public void sent(String id) {
        results.putIfAbsent(requireNonNull(id, "id"), 0);
    }

    /** {@code replay_gap {from, to}} arrived: seqs from..to will never come. */
    public void replayGap(long from, long to) {
        if (from != lastProcessed + 1 || to < from) {
            violation(BAD_GAP, "replay_gap " + from + ".." + to + " after last processed seq " + lastProcessed);
            return;
        }
        gaps++;
        lost += to - from + 1;
        lastProcessed = to;
    }

    /**
     * A frame with {@code seq} arrived.
     *
     * @return whether it is new, i.e. the application should process it
     */
    public boolean sequenced(long seq) {
        if (seq <= lastOnConnection) {
            duplicatesDelivered++;
            violation(SEQ_REPEATED, "seq " + seq + " after seq " + lastOnConnection + " on the same connection");
            return false;
        }
        lastOnConnection = seq;
        if (seq <= lastProcessed) {
            duplicatesDropped++;
            return false;
        }
        if (seq != lastProcessed + 1) {
            violation(SEQ_GAP, "expected seq " + (lastProcessed + 1) + ", got " + seq
                    + " (seqs " + (lastProcessed + 1) + ".." + (seq - 1) + " missing, no replay_gap)");
        }
        lastProcessed = seq;
        delivered++;
        return true;
    }

    /** A new (not duplicate-dropped) {@code result} event for message {@code id}. */
    public void result(String id) {
        Integer count = results.get(id);
        if (count == null) {
            violation(UNEXPECTED_RESULT, "result for message id " + id + " that was never sent");
            return;
        }
        if (count >= 1) {
            duplicatesDelivered++;
            violation(DUPLICATE_RESULT, "message id " + id + " answered " + (count + 1) + " times");
        }
        results.put(id, count + 1);
    }

    /** A new {@code worker_crashed} notice naming {@code turnId}: that turn is lost, by design. */
    public void workerCrashed(String turnId) {
        if (turnId != null && crashed.add(turnId)) {
            crashedTurns++;
        }
    }

    /**
     * An {@code error} naming message {@code id} refused it ({@code queue_full}, {@code rate_limited}
     * ...): it never reached the worker, so no result is due. The error itself is counted by the
     * caller and fails the run; the audit only stops waiting for the result.
     */
    public void refused(String id) {
        if (id != null && refused.add(id)) {
            refusedMessages++;
        }
    }

    /** Whether message {@code id} has its answer (a result, a crash that accounts for it, or a refusal). */
    public boolean answered(String id) {
        Integer count = results.get(id);
        return (count != null && count > 0) || crashed.contains(id) || refused.contains(id);
    }

    /** Ids sent that are still waiting for an answer. */
    public List<String> unanswered() {
        List<String> open = new ArrayList<>();
        results.forEach((id, count) -> {
            if (count == 0 && !crashed.contains(id) && !refused.contains(id)) {
                open.add(id);
            }
        });
        return open;
    }

    /** The end of the run: every id still unanswered is a violation. */
    public void finish() {
        List<String> open = unanswered();
        if (!open.isEmpty()) {
            violation(UNANSWERED, open.size() + " message(s) without result: "
                    + String.join(", ", open.subList(0, Math.min(10, open.size()))) + (open.size() > 10 ? ", ..." : ""));
        }
    }

    private void violation(String kind, String detail) {
        violationCount++;
        if (violations.size() < MAX_VIOLATIONS) {
            violations.add(new Violation(session, kind, detail));
        }
    }

    public String sessionId() {
        return session;
    }

    public long delivered() {
        return delivered;
    }

    public long duplicatesDropped() {
        return duplicatesDropped;
    }

    public long duplicatesDelivered() {
        return duplicatesDelivered;
    }

    public long lost() {
        return lost;
    }

    public long gaps() {
        return gaps;
    }

    /** Messages refused by an error naming them (see {@link #refused}). */
    public long refusedMessages() {
        return refusedMessages;
    }

    public long crashedTurns() {
        return crashedTurns;
    }

    /** The first violations found (at most 100 kept; {@link #violationCount()} counts them all). */
    public List<Violation> violations() {
        return List.copyOf(violations);
    }

    public long violationCount() {
        return violationCount;
    }
}
