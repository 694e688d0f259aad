package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.session.AdmissionQueue;
import dev.tether.gateway.session.Connection;
import dev.tether.gateway.session.Journal;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.session.SessionStore;
import dev.tether.gateway.worker.Worker;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@code wait=1} connection in the admission line (contract 8.1): it holds no session and no
 * worker, only its channel, its token and this object, until the line admits it and it becomes a
 * new session like any other. Every method runs on the channel's event loop.
 */
final class WaitingConnection implements AdmissionQueue.Waiter {

    private static final Logger log = LoggerFactory.getLogger(WaitingConnection.class);

    private final SessionRegistry registry;
    private final Channel channel;
    private final Connection connection;
    private final Consumer<Session> started;
    /** The session this connection forks once admitted ({@code fork=S}, contract 1.2, 8.2), or null. */
    private final String forkOf;

    /** @param started told the session once admitted, on the channel's loop */
    WaitingConnection(SessionRegistry registry, Channel channel, Connection connection, Consumer<Session> started) {
        this(registry, channel, connection, null, started);
    }

    /** A waiting fork of {@code forkOf} (null: a new session from nothing). */
    WaitingConnection(
            SessionRegistry registry,
            Channel channel,
            Connection connection,
            String forkOf,
            Consumer<Session> started) {
        this.forkOf = forkOf;
        this.registry = requireNonNull(registry, "registry");
        this.channel = requireNonNull(channel, "channel");
        this.connection = requireNonNull(connection, "connection");
        this.started = requireNonNull(started, "started");
    }

    @Override
    public String subject() {
        return connection.token().subject();
    }

    @Override
    public EventExecutor executor() {
        return channel.eventLoop();
    }

    @Override
    public void queued(int position, Long estimatedWait) {
        if (channel.isActive()) {
            connection.send(new ServerMessage.Queued(position, estimatedWait));
        }
    }

    @Override
    public void admitted(CompletionStage<Worker> worker) {
        if (!channel.isActive()) {
            registry.release(subject());
            worker.thenAccept(Worker::stop);
            return;
        }
        log.atDebug().addKeyValue("subject", subject()).log("admitted from the waiting line");
        if (!registry.store().shared()) {
            start(null, Journal.NONE, worker);
            return;
        }
        // With the shared store the session is registered there only now, when it starts, like any
        // new session: its keys' lifetime and its user's count across the nodes start with it.
        String id = registry.nextId();
        registry.store()
                .create(id, subject(), connection.token().expiresAt().getEpochSecond(), channel.eventLoop())
                .whenComplete((creation, error) -> channel.eventLoop().execute(() -> {
                    if (creation instanceof SessionStore.Creation.Created created && channel.isActive()) {
                        start(id, created.journal(), worker);
                        return;
                    }
                    registry.release(subject());
                    worker.thenAccept(Worker::stop);
                    if (creation instanceof SessionStore.Creation.Created) {
                        registry.store().abandon(id, subject()); // the client went away meanwhile
                        return;
                    }
                    log.atInfo()
                            .addKeyValue("subject", subject())
                            .log(
                                    "admitted from the waiting line but refused by the session store: {}",
                                    error == null ? "the user's sessions on every node are at the limit" : error);
                    SessionRefusals.refuse(
                            connection,
                            ErrorCode.ADMISSION_TIMEOUT,
                            error == null
                                    ? "too many sessions for this user on the gateway's nodes: try again later"
                                    : "the session store cannot be reached: try again later",
                            CloseCode.TRY_AGAIN_LATER);
                }));
    }

    /** Starts the admitted session ({@code id} null: drawn here, without a journal) and attaches this connection. */
    private void start(String id, Journal journal, CompletionStage<Worker> worker) {
        if (forkOf != null) {
            Forks.start(registry, connection, channel.eventLoop(), forkOf, id, journal, worker, started);
            return;
        }
        Session session = registry.create(id, connection.token(), channel.eventLoop(), worker, journal);
        started.accept(session);
        session.attach(connection, 0, false);
    }

    @Override
    public void timedOut() {
        SessionRefusals.refuse(
                connection,
                ErrorCode.ADMISSION_TIMEOUT,
                "no capacity within sessions.admission.max_wait: try again later",
                CloseCode.TRY_AGAIN_LATER);
    }

    @Override
    public void drained(long retryAfterSeconds) {
        connection.send(new ServerMessage.ShuttingDown(retryAfterSeconds));
        connection.close(CloseCode.GOING_AWAY);
    }
}
