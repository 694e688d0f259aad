package dev.tether.loadtest.client;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.loadtest.audit.SessionAudit;
import dev.tether.loadtest.client.RunStats.Metric;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A virtual user's messages: sends them (or keeps them while the user is away), tells the audit
 * what went out, re-sends on purpose (the same id once accepted, or the same data under a fresh
 * id, as {@link UserChaos} says) and after a resume (those never accepted), and measures each
 * from its scheduled time to its first event and its result. Used by its {@link VirtualUser} under
 * the user's lock; {@code writer} writes to the connection in use.
 */
final class UserTraffic {

    private final RunStats stats;
    private final UserChaos chaos;
    private final Random random;
    private final Supplier<String> ids;
    private final Consumer<ClientMessage> writer;
    private final InFlight pending = new InFlight();

    UserTraffic(RunStats stats, UserChaos chaos, Random random, Supplier<String> ids, Consumer<ClientMessage> writer) {
        this.stats = requireNonNull(stats, "stats");
        this.chaos = requireNonNull(chaos, "chaos");
        this.random = requireNonNull(random, "random");
        this.ids = requireNonNull(ids, "ids");
        this.writer = requireNonNull(writer, "writer");
    }

    /** Message {@code id} is due; it goes out now when {@code up}, else once a connection is up again. */
    void add(SessionAudit session, String id, JsonNode data, long scheduledNanos, boolean up) {
        InFlight.Message m = pending.add(id, scheduledNanos, data, up);
        m.resendSame = chaos.resendSame() > 0 && random.nextDouble() < chaos.resendSame();
        m.resendFresh = chaos.resendFresh() > 0 && random.nextDouble() < chaos.resendFresh();
        if (up) {
            send(session, m);
        }
    }

    private void send(SessionAudit session, InFlight.Message m) {
        session.sent(m.id, m.data);
        writer.accept(new ClientMessage.Message(m.id, m.data));
        stats.sent();
    }

    /** A connection is up: what came due while the user was away goes out. */
    void flushUnsent(SessionAudit session) {
        for (InFlight.Message m : pending.takeUnsent()) {
            send(session, m);
        }
    }

    /**
     * A resume settled: messages sent before whose {@code accepted} never came go out again under
     * the same id (the gateway may have them, and then answers {@code duplicate: true}).
     */
    void resendUnaccepted() {
        for (InFlight.Message m : pending.toResend()) {
            writer.accept(new ClientMessage.Message(m.id, m.data));
            stats.count("resent");
        }
    }

    /** {@code accepted} came; {@code inUse}: on the connection in use, where a planned resend may follow. */
    void accepted(SessionAudit session, ServerMessage.Accepted accepted, boolean inUse) {
        session.accepted(accepted.id(), accepted.duplicate());
        if (accepted.duplicate()) {
            stats.count("accepted_duplicate");
        }
        InFlight.Message m = pending.get(accepted.id());
        if (m == null) {
            return;
        }
        m.accepted = true;
        if (accepted.duplicate() || !inUse) {
            return;
        }
        if (m.resendSame) {
            m.resendSame = false;
            session.resentAfterAccept(m.id);
            writer.accept(new ClientMessage.Message(m.id, m.data));
            stats.count("resent_same_id");
        }
        if (m.resendFresh) {
            m.resendFresh = false;
            stats.count("resent_fresh_id");
            send(session, pending.add(ids.get(), System.nanoTime(), m.data, true));
        }
    }

    /** An {@code error} naming {@code id} refused it (never forwarded); true when it was one of ours. */
    boolean refused(SessionAudit session, String id) {
        if (pending.answered(id) == null) {
            return false;
        }
        session.refused(id);
        return true;
    }

    /** A worker event, new to the user; true when it answered one of its messages (a result). */
    boolean event(JsonNode event, long now) {
        stats.event();
        JsonNode idNode = event.get("id");
        if (idNode == null || !idNode.isTextual()) {
            return false;
        }
        String id = idNode.textValue();
        InFlight.Message m = pending.get(id);
        if (m == null) {
            return false;
        }
        if (!m.firstEventSeen) {
            m.firstEventSeen = true;
            stats.latency(Metric.FIRST_EVENT, m.scheduledNanos, now);
        }
        if (!"result".equals(event.path("type").asText())) {
            return false;
        }
        pending.answered(id);
        stats.result();
        stats.latency(Metric.ROUND_TRIP, m.scheduledNanos, now);
        return true;
    }

    /** A worker crash took turn {@code id} with it; true when it was one of ours. */
    boolean crashed(String id) {
        return pending.answered(id) != null;
    }

    /** The session is gone: the messages sent to it went with it; those never sent stay for the next. Returns how many went. */
    int dropSent() {
        return pending.dropSent();
    }

    boolean isEmpty() {
        return pending.isEmpty();
    }

    int size() {
        return pending.size();
    }
}
