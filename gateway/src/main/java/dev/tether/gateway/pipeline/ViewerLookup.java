package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.session.Connection;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionIds;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.session.SessionStore;
import dev.tether.gateway.session.Viewers;
import io.netty.channel.ChannelHandlerContext;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the session a viewer connection asked for (contract 7.4), once its handshake completed, and
 * attaches the viewer to it; used by {@link SessionHandler}, on the channel's event loop.
 *
 * <p>A session the token may not view (neither its owner nor listed in its {@code view} claim) is
 * answered exactly like an unknown one: {@code session_not_found}, close 4004. A viewer never takes a
 * session over: when this node does not have it and the shared store says another node does, the
 * answer is {@code session_busy} naming that node ({@code ... &node=<node>}), then close 1001, so
 * that the client connects again through a proxy that routes {@code &node=} there; while no node holds
 * it (its owner has not resumed it since it moved), the same without a node.
 */
final class ViewerLookup {

    private static final Logger log = LoggerFactory.getLogger(ViewerLookup.class);

    private final SessionRegistry registry;

    ViewerLookup(SessionRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
    }

    /**
     * Attaches {@code connection} as a viewer of the ticket's session, handing the session to
     * {@code found} first (the handler sends it the connection's frames from then on), or answers
     * and closes the connection. The place reserved at the upgrade is used or given back.
     */
    void attach(ChannelHandlerContext ctx, Connection connection, UpgradeTicket.View ticket, Consumer<Session> found) {
        SessionRegistry.Lookup lookup = registry.lookupViewer(ticket.sessionId(), ticket.token());
        Session session = lookup instanceof SessionRegistry.Lookup.Found f ? f.session() : null;
        Viewers.Slot slot = ticket.slot();
        if (slot != null && ticket.session() != session) {
            slot.release(); // not the session it was reserved on (gone meanwhile)
            slot = null;
        }
        if (session != null) {
            long lastSeq = SessionHandler.parseLastSeq(ticket.lastSeq());
            if (lastSeq < 0) {
                if (slot != null) {
                    slot.release();
                }
                SessionRefusals.invalidSequence(connection);
                return;
            }
            if (slot == null) {
                slot = session.reserveViewer(); // it came to this node after the upgrade
            }
            if (slot == null) {
                // Past the upgrade a 429 cannot be sent: the client connects again and gets it then.
                SessionRefusals.busy(connection, "too many viewers of this session: connect again later");
                return;
            }
            found.accept(session);
            session.attachViewer(connection, lastSeq, slot);
            return;
        }
        if (SessionRefusals.refusedAsGone(connection, lookup)) {
            return;
        }
        if (!registry.store().shared() || !SessionIds.wellFormed(ticket.sessionId())) {
            SessionRefusals.notFound(connection);
            return;
        }
        registry.store()
                .locate(ticket.sessionId())
                .whenComplete((location, error) ->
                        ctx.executor().execute(() -> elsewhere(connection, ticket, location, error)));
    }

    /** What the shared store says about a session this node does not have. */
    private void elsewhere(
            Connection connection,
            UpgradeTicket.View ticket,
            Optional<SessionStore.Location> location,
            Throwable error) {
        if (error != null) {
            log.atWarn()
                    .addKeyValue("session", ticket.sessionId())
                    .log("cannot locate the session for a viewer: {}", String.valueOf(error));
            SessionRefusals.busy(connection, "the session store cannot be reached: connect again later");
            return;
        }
        SessionStore.Location where = location.orElse(null);
        if (where == null || !ticket.token().mayView(ticket.sessionId(), where.subject())) {
            SessionRefusals.notFound(connection);
        } else if (where.endReason() != null) {
            SessionRefusals.expired(connection, where.endReason());
        } else if (where.node().isEmpty() || where.node().equals(registry.node())) {
            SessionRefusals.busy(connection, "no node serves the session right now: connect again later");
        } else {
            SessionRefusals.busy(
                    connection,
                    "the session is served by node " + where.node() + ": connect there with &node=" + where.node());
        }
    }
}
