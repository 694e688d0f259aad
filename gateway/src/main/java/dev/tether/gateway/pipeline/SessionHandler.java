package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.config.HeartbeatConfig;
import dev.tether.gateway.session.Connection;
import dev.tether.gateway.session.ControlFrame;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.Journal;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.session.SessionStore;
import dev.tether.gateway.worker.Worker;
import dev.tether.protocol.ClientMessage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionEncoder;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Binds a connection to its session (pipeline stage {@link GatewayPipeline#SESSION}). When the
 * handshake completes it creates the session, or looks up the one to resume, and attaches to it;
 * from then on it hands every decoded frame to the session's event loop and tells the session when
 * the connection goes away. A viewer's connection ({@code role=viewer}) is attached by {@link
 * ViewerLookup} and never starts a take-over.
 *
 * <p>Runs on the channel's event loop; the session may live on another one, so every call into it
 * is a hand-over ({@link Session} queues them in order).
 */
final class SessionHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);

    private final SessionRegistry registry;
    private final HeartbeatConfig heartbeat;
    private final ViewerLookup viewers;
    private Connection connection;
    private Session session;
    /** While this connection waits in the admission line ({@code wait=1}); null otherwise. */
    private WaitingConnection waiting;

    /** Installs the heartbeat stages ({@link HeartbeatHandler}) when the handshake completes. */
    SessionHandler(SessionRegistry registry, HeartbeatConfig heartbeat) {
        this.registry = requireNonNull(registry, "registry");
        this.heartbeat = requireNonNull(heartbeat, "heartbeat");
        this.viewers = new ViewerLookup(registry);
    }

    /** Without heartbeats: for tests of the session binding alone, on a pipeline without the WebSocket stage. */
    SessionHandler(SessionRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        this.heartbeat = null;
        this.viewers = new ViewerLookup(registry);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof WebSocketServerProtocolHandler.HandshakeComplete)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        UpgradeHandler.upgraded(ctx.pipeline());
        ConnectionLimitHandler.upgraded(ctx.channel());
        if (heartbeat != null) {
            HeartbeatHandler.install(ctx.pipeline(), heartbeat);
        }
        BatchHandler.install(ctx.pipeline());
        UpgradeTicket ticket = ctx.channel().attr(UpgradeTicket.KEY).getAndSet(null);
        if (ticket == null) {
            Unwatched.close(ctx);
            return;
        }
        connection = new Connection(ctx.channel(), ticket.token());
        registry.metrics().connectionOpened();
        if (ctx.pipeline().get(WebSocketExtensionEncoder.class) != null) {
            // Netty put the permessage-deflate deflater in when it wrote the upgrade answer.
            registry.metrics().connectionCompressed();
        }
        if (ticket instanceof UpgradeTicket.Fork fork) {
            UpgradeTicket.Create create = fork.create();
            Forks.start(
                    registry,
                    connection,
                    ctx.channel().eventLoop(),
                    fork.parent(),
                    create.sessionId(),
                    create.sessionId() == null ? Journal.NONE : create.journal(),
                    create.worker(),
                    forked -> session = forked);
            return;
        }
        if (ticket instanceof UpgradeTicket.Create create) {
            session = registry.create(
                    create.sessionId(),
                    create.token(),
                    ctx.channel().eventLoop(),
                    create.worker(),
                    create.sessionId() == null ? Journal.NONE : create.journal());
            session.attach(connection, 0, false);
            return;
        }
        if (ticket instanceof UpgradeTicket.Wait wait) {
            waiting = new WaitingConnection(registry, ctx.channel(), connection, wait.forkOf(), admitted -> {
                waiting = null;
                session = admitted;
            });
            registry.admission().join(waiting);
            return;
        }
        if (ticket instanceof UpgradeTicket.View view) {
            viewers.attach(ctx, connection, view, found -> session = found);
            return;
        }
        resume(ctx, (UpgradeTicket.Resume) ticket);
    }

    private void resume(ChannelHandlerContext ctx, UpgradeTicket.Resume ticket) {
        SessionRegistry.Lookup lookup =
                registry.lookup(ticket.sessionId(), ticket.token().subject());
        if (ticket.adoptWith() != null) {
            if (lookup instanceof SessionRegistry.Lookup.NotFound && parseLastSeq(ticket.lastSeq()) >= 0) {
                adopt(ctx, ticket);
                return;
            }
            giveBack(ticket); // here after all (or refused below): the reserved slot and worker are not needed
        }
        if (lookup instanceof SessionRegistry.Lookup.NotFound) {
            SessionRefusals.notFound(connection);
            return;
        }
        if (SessionRefusals.refusedAsGone(connection, lookup)) {
            return;
        }
        long lastSeq = parseLastSeq(ticket.lastSeq());
        if (lastSeq < 0) {
            SessionRefusals.invalidSequence(connection);
            return;
        }
        session = ((SessionRegistry.Lookup.Found) lookup).session();
        session.attach(connection, lastSeq, true);
    }

    /**
     * Takes over, through the shared store, a session this node does not have (contract 7.1), with
     * the slot and worker reserved at the upgrade; once it is here the connection attaches as to any
     * session. Frames the client sends meanwhile are dropped (it waits for {@code session_ready}).
     */
    private void adopt(ChannelHandlerContext ctx, UpgradeTicket.Resume ticket) {
        String subject = ticket.token().subject();
        long lastSeq = parseLastSeq(ticket.lastSeq());
        registry.takeOver(ticket.sessionId(), subject, lastSeq, ctx.channel().eventLoop(), ticket.adoptWith())
                .whenComplete((outcome, error) -> ctx.executor().execute(() -> {
                    if (outcome instanceof SessionRegistry.TakeOver.Here here) {
                        session = here.session();
                        session.attach(connection, lastSeq, true);
                        return;
                    }
                    SessionStore.Adoption adoption =
                            outcome instanceof SessionRegistry.TakeOver.Refused refused ? refused.adoption() : null;
                    if (adoption instanceof SessionStore.Adoption.Ended ended) {
                        EndReason reason = EndReason.fromWire(ended.reason()).orElse(null);
                        if (reason != null) {
                            registry.endedElsewhere(ticket.sessionId(), subject, reason);
                        }
                        SessionRefusals.expired(connection, ended.reason());
                    } else if (adoption instanceof SessionStore.Adoption.Incompatible incompatible) {
                        SessionRefusals.incompatible(connection, incompatible.format());
                    } else if (adoption instanceof SessionStore.Adoption.NotFound) {
                        SessionRefusals.notFound(connection);
                    } else {
                        Throwable why =
                                outcome instanceof SessionRegistry.TakeOver.Failed failed ? failed.error() : error;
                        log.atWarn()
                                .addKeyValue("session", ticket.sessionId())
                                .addKeyValue("subject", subject)
                                .log("cannot take the session over: {}", String.valueOf(why));
                        SessionRefusals.busy(connection, "the session cannot be taken over now: resume again later");
                    }
                }));
    }

    /** Gives back the slot and worker reserved for taking a session over. */
    private void giveBack(UpgradeTicket.Resume ticket) {
        registry.release(ticket.token().subject());
        ticket.adoptWith().thenAccept(Worker::stop);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpObject) {
            // An HTTP request that no stage before answered or upgraded: nothing may go on with
            // it, and a connection that carries one is not to be trusted with another.
            ReferenceCountUtil.release(msg);
            log.debug(
                    "closing {}: an HTTP request reached the session stage",
                    ctx.channel().remoteAddress());
            Unwatched.close(ctx);
            return;
        }
        if (session == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof ClientMessage message) {
            session.receive(connection, message);
        } else if (msg instanceof ControlFrame control) {
            session.control(connection, control);
        } else if (msg instanceof InboundFailure failure) {
            session.reject(connection, failure.code(), failure.message(), failure.id());
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (session != null) {
            session.writability(connection, ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (connection != null) {
            registry.metrics().connectionClosed();
        }
        if (session != null) {
            session.detach(connection);
        } else if (waiting != null) {
            registry.admission().leave(waiting);
        } else {
            UpgradeTicket unused = ctx.channel().attr(UpgradeTicket.KEY).getAndSet(null);
            if (unused instanceof UpgradeTicket.Resume resume && resume.adoptWith() != null) {
                giveBack(resume);
            }
            if (unused instanceof UpgradeTicket.Wait wait) {
                registry.admission().cancel(wait.token().subject());
            }
            if (unused instanceof UpgradeTicket.View view && view.slot() != null) {
                view.slot().release();
            }
            if (unused instanceof UpgradeTicket.Fork fork) {
                unused = fork.create(); // given back like the new session it was admitted as
            }
            if (unused instanceof UpgradeTicket.Create create) {
                registry.release(create.token().subject());
                create.worker().thenAccept(Worker::stop);
                if (create.sessionId() != null) {
                    registry.store().abandon(create.sessionId(), create.token().subject());
                }
                log.atDebug()
                        .addKeyValue("subject", create.token().subject())
                        .log("connection closed before its handshake completed; slot and worker released");
            }
        }
        ctx.fireChannelInactive();
    }

    /** The {@code last_seq} query value: absent is 0; anything but a non-negative long is -1. */
    static long parseLastSeq(String raw) {
        if (raw == null) {
            return 0;
        }
        if (raw.isEmpty() || raw.length() > 19 || !raw.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        try {
            return Long.parseLong(raw);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
