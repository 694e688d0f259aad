package dev.tether.gateway.pipeline;

import dev.tether.gateway.session.Connection;
import dev.tether.gateway.session.ForkSource;
import dev.tether.gateway.session.Journal;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.worker.Worker;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import io.netty.channel.EventLoop;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a fork ({@code GET /ws?fork=S}, contract 1.2, 8.2) once its connection is a WebSocket:
 * admitted at the upgrade like any new session (a slot, a worker, with the shared store its entry),
 * it looks for S ({@link SessionRegistry#forkSource}: on S's own loop when S is here, in the store
 * otherwise, never claiming it), then becomes a new session continuing from S's checkpoint, or is
 * refused as a resume of S would be ({@code session_not_found} or {@code session_expired}, close
 * 4004), giving back what it was admitted with. S is only read. Used by {@link SessionHandler} and,
 * for {@code wait=1}, by {@link WaitingConnection}; the outcome is handled on the connection's loop.
 */
final class Forks {

    private static final Logger log = LoggerFactory.getLogger(Forks.class);

    private Forks() {}

    /**
     * Forks {@code parent} for {@code connection}'s owner, in a slot reserved for it and with {@code
     * worker}; {@code sessionId} and {@code journal} are those the shared store registered (null and
     * {@link Journal#NONE} in memory). {@code started} is told the new session, on {@code loop}.
     */
    static void start(
            SessionRegistry registry,
            Connection connection,
            EventLoop loop,
            String parent,
            String sessionId,
            Journal journal,
            CompletionStage<Worker> worker,
            Consumer<Session> started) {
        String subject = connection.token().subject();
        CompletionStage<ForkSource> source;
        try {
            source = registry.forkSource(parent, subject);
        } catch (RuntimeException e) {
            source = CompletableFuture.failedFuture(e);
        }
        source.whenComplete((found, error) -> loop.execute(() -> {
            if (found instanceof ForkSource.Found from && connection.open()) {
                Session session =
                        registry.createFork(sessionId, connection.token(), loop, worker, journal, parent, from);
                started.accept(session);
                log.atInfo()
                        .addKeyValue("session", session.id())
                        .addKeyValue("subject", subject)
                        .log(
                                "forked from session {} ({})",
                                parent,
                                from.seq() == null ? "no checkpoint: fresh" : "checkpoint at seq " + from.seq());
                session.attach(connection, 0, false);
                return;
            }
            registry.release(subject);
            worker.thenAccept(Worker::stop);
            if (sessionId != null) {
                registry.store().abandon(sessionId, subject);
            }
            if (!connection.open()) {
                return;
            }
            if (found instanceof ForkSource.Ended ended) {
                SessionRefusals.expired(connection, ended.reason());
            } else if (found instanceof ForkSource.Incompatible incompatible) {
                SessionRefusals.refuse(
                        connection,
                        ErrorCode.SESSION_INCOMPATIBLE,
                        "the session was stored in format " + incompatible.format()
                                + ", which this gateway cannot read",
                        CloseCode.SESSION_NOT_FOUND);
            } else if (found instanceof ForkSource.NotFound) {
                SessionRefusals.notFound(connection);
            } else {
                log.atWarn()
                        .addKeyValue("subject", subject)
                        .log("cannot fork session {}: {}", parent, String.valueOf(error));
                SessionRefusals.busy(connection, "the session store cannot be reached: fork again later");
            }
        }));
    }
}
