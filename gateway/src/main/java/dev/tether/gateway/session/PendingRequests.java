package dev.tether.gateway.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.ServerMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A session's requests from its worker to the user (contract 7.3), on the session's event loop:
 * those waiting for an answer, each with its timeout, and the ids of resolved ones, so that each
 * request resolves exactly once and a late answer is told so. Bounded: at most
 * {@code limits.max_pending_requests} wait at once, and the newest
 * {@code limits.max_remembered_requests} resolved ids are remembered.
 */
final class PendingRequests {

    /** A request waiting for its answer: shown to the client as {@code seq}, asked during turn {@code turnId} (null outside a turn). */
    record Pending(String id, JsonNode request, long seq, String turnId, Timer timeout) {}

    /** What a worker's new request comes to. */
    enum Opening {
        /** Waiting for an answer now. */
        OPENED,
        /** The id is waiting already, or was resolved: the worker broke the protocol; nothing changes. */
        DUPLICATE,
        /** {@code limits.max_pending_requests} are waiting: refused. */
        FULL
    }

    /** What a client's answer finds. */
    enum Lookup {
        PENDING,
        RESOLVED,
        NOT_FOUND
    }

    private final int maxPending;
    private final int maxRemembered;
    private final Duration timeout;
    private final TimerFactory timers;
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    /** Resolved ids, oldest first. */
    private final Set<String> resolved = new LinkedHashSet<>();

    /** Makes the timers of request timeouts (on the session's loop). */
    interface TimerFactory {
        Timer timer();
    }

    PendingRequests(int maxPending, int maxRemembered, Duration timeout, TimerFactory timers) {
        this.maxPending = maxPending;
        this.maxRemembered = maxRemembered;
        this.timeout = requireNonNull(timeout, "timeout");
        this.timers = requireNonNull(timers, "timers");
    }

    /** Whether {@code id} may be opened now; see {@link Opening}. */
    Opening check(String id) {
        if (pending.containsKey(id) || resolved.contains(id)) {
            return Opening.DUPLICATE;
        }
        return pending.size() >= maxPending ? Opening.FULL : Opening.OPENED;
    }

    /**
     * Opens request {@code id} (checked with {@link #check} first), shown as {@code seq}; if nobody
     * answers within {@code limits.request_timeout}, {@code onTimeout} gets its id.
     */
    void open(String id, JsonNode request, long seq, String turnId, Consumer<String> onTimeout) {
        Timer timer = timers.timer();
        pending.put(id, new Pending(id, request, seq, turnId, timer));
        timer.arm(timeout, () -> onTimeout.accept(id));
    }

    /** Where {@code id} stands. */
    Lookup lookup(String id) {
        if (pending.containsKey(id)) {
            return Lookup.PENDING;
        }
        return resolved.contains(id) ? Lookup.RESOLVED : Lookup.NOT_FOUND;
    }

    /** Resolves {@code id} if it is waiting: true the one time it was. */
    boolean resolve(String id) {
        Pending done = pending.remove(id);
        if (done == null) {
            return false;
        }
        done.timeout().cancel();
        remember(id);
        return true;
    }

    /** Remembers {@code id} as resolved without it having waited here (restored from the history of another node). */
    void remember(String id) {
        resolved.remove(id);
        resolved.add(id);
        while (resolved.size() > maxRemembered) {
            resolved.remove(resolved.iterator().next());
        }
    }

    /** The ids waiting now, oldest first. */
    List<String> ids() {
        return new ArrayList<>(pending.keySet());
    }

    /** The ids of the requests asked during turn {@code turnId}, oldest first. */
    List<String> idsOfTurn(String turnId) {
        List<String> ids = new ArrayList<>();
        for (Pending p : pending.values()) {
            if (turnId.equals(p.turnId())) {
                ids.add(p.id());
            }
        }
        return ids;
    }

    /** Whether none waits. */
    boolean isEmpty() {
        return pending.isEmpty();
    }

    /** The requests waiting, as {@code session_ready.pending_requests} lists them. */
    List<ServerMessage.PendingRequest> listed() {
        List<ServerMessage.PendingRequest> listed = new ArrayList<>(pending.size());
        for (Pending p : pending.values()) {
            listed.add(new ServerMessage.PendingRequest(p.id(), p.request(), p.seq()));
        }
        return listed;
    }

    /** Cancels every timeout (the session ended or left). */
    void stopTimers() {
        pending.values().forEach(p -> p.timeout().cancel());
    }
}
