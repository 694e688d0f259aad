package dev.tether.loadtest.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.client.RunStats;
import dev.tether.loadtest.client.RunStats.Metric;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A session's messages that have no answer yet, and the latencies they give: the first event of a
 * message records {@code first_event} and its {@code result} records {@code round_trip}, both from
 * the time the message counts from (its scheduled time in an open loop, so that a late send or a
 * stalled server shows as latency: coordinated omission corrected). Also remembers each message's
 * data, whether its {@code accepted} came (to re-send only unaccepted ones after a resume) and which
 * ones were due while the session was disconnected.
 *
 * <p>Confined to its session's event loop.
 */
final class Turns {

    /** One message waiting for its result. */
    static final class Pending {
        final String id;
        final long fromNanos;
        final JsonNode data;
        boolean sent;
        boolean accepted;
        boolean firstEventSeen;
        /** Sent to a sleeping session: its first event is a wake-up's ({@code wake_first_event}). */
        boolean wake;

        Pending(String id, long fromNanos, JsonNode data, boolean sent) {
            this.id = id;
            this.fromNanos = fromNanos;
            this.data = data;
            this.sent = sent;
        }
    }

    private final RunStats stats;
    private final Map<String, Pending> waiting = new LinkedHashMap<>();

    Turns(RunStats stats) {
        this.stats = stats;
    }

    /** Message {@code id} counts from {@code fromNanos}; {@code sent} says whether it went out now or waits for a connection. */
    void add(String id, long fromNanos, JsonNode data, boolean sent) {
        waiting.put(id, new Pending(id, fromNanos, data, sent));
    }

    void accepted(String id) {
        Pending p = waiting.get(id);
        if (p != null) {
            p.accepted = true;
        }
    }

    /**
     * An event for message {@code id} arrived at {@code nowNanos}; {@code result} ends its turn.
     *
     * @return whether the message was waiting here (false for an id this session does not wait for)
     */
    boolean event(String id, boolean result, long nowNanos) {
        Pending p = result ? waiting.remove(id) : waiting.get(id);
        if (p == null) {
            return false;
        }
        if (!p.firstEventSeen) {
            p.firstEventSeen = true;
            stats.latency(p.wake ? Metric.WAKE_FIRST_EVENT : Metric.FIRST_EVENT, p.fromNanos, nowNanos);
        }
        if (result) {
            stats.result();
            stats.latency(Metric.ROUND_TRIP, p.fromNanos, nowNanos);
        }
        return true;
    }

    /** Message {@code id} goes to a sleeping session: its first event measures the wake-up. */
    void wake(String id) {
        Pending p = waiting.get(id);
        if (p != null) {
            p.wake = true;
        }
    }

    /** The message will get no result (refused, or its worker crashed); true if it was waiting. */
    boolean refused(String id) {
        return waiting.remove(id) != null;
    }

    /** Messages sent on an earlier connection whose {@code accepted} never came: re-sent under the same id after a resume. */
    List<Pending> toResend() {
        List<Pending> list = new ArrayList<>();
        for (Pending p : waiting.values()) {
            if (p.sent && !p.accepted) {
                list.add(p);
            }
        }
        return list;
    }

    /** Messages that came due while disconnected, in order; they count as sent from now on. */
    List<Pending> takeUnsent() {
        List<Pending> list = new ArrayList<>();
        for (Pending p : waiting.values()) {
            if (!p.sent) {
                p.sent = true;
                list.add(p);
            }
        }
        return list;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    int size() {
        return waiting.size();
    }
}
