package dev.tether.loadtest.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A virtual user's messages that have no answer yet: when each was due (latencies count from
 * there), its data (to re-send it under the same id after a resume), whether its first event came,
 * which ones were never sent because the user was reconnecting, and what the user means to do with
 * it once accepted (send it again, under the same or a fresh id). Guarded by the user's lock.
 */
final class InFlight {

    /** One message waiting for its result. */
    static final class Message {
        final String id;
        final long scheduledNanos;
        final JsonNode data;
        boolean firstEventSeen;
        boolean accepted;
        /** Once accepted as new, send it again under the same id. */
        boolean resendSame;
        /** Once accepted as new, send its data again as a new message. */
        boolean resendFresh;

        Message(String id, long scheduledNanos, JsonNode data) {
            this.id = id;
            this.scheduledNanos = scheduledNanos;
            this.data = data;
        }
    }

    private final Map<String, Message> waiting = new LinkedHashMap<>();
    private final Set<String> unsent = new LinkedHashSet<>();

    /** Message {@code id} is due; {@code sent} tells whether it went out now or waits for a connection. */
    Message add(String id, long scheduledNanos, JsonNode data, boolean sent) {
        Message m = new Message(id, scheduledNanos, data);
        waiting.put(id, m);
        if (!sent) {
            unsent.add(id);
        }
        return m;
    }

    /** The message with {@code id}, or null when it is not waiting (answered, or never ours). */
    Message get(String id) {
        return waiting.get(id);
    }

    /** Its answer came (a result, or a crash that accounts for it); returns it, or null. */
    Message answered(String id) {
        unsent.remove(id);
        return waiting.remove(id);
    }

    /**
     * Messages sent on an earlier connection whose {@code accepted} never came: to re-send under the
     * same id after a resume (the gateway may have them: then it answers {@code duplicate: true}).
     * Accepted ones need no resend: their events come with the replay.
     */
    List<Message> toResend() {
        List<Message> list = new ArrayList<>();
        for (Message m : waiting.values()) {
            if (!unsent.contains(m.id) && !m.accepted) {
                list.add(m);
            }
        }
        return list;
    }

    /** Messages that came due while disconnected, in order; they count as sent from now on. */
    List<Message> takeUnsent() {
        List<Message> list = new ArrayList<>();
        for (String id : unsent) {
            list.add(waiting.get(id));
        }
        unsent.clear();
        return list;
    }

    /** Forgets every message that was sent (their session is gone); those never sent stay. Returns how many. */
    int dropSent() {
        int dropped = 0;
        for (Iterator<Message> it = waiting.values().iterator(); it.hasNext(); ) {
            if (!unsent.contains(it.next().id)) {
                it.remove();
                dropped++;
            }
        }
        return dropped;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }

    int size() {
        return waiting.size();
    }
}
