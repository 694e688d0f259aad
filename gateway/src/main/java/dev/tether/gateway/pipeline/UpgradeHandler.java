package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.abuse.AddressRateLimiter;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.auth.Credentials;
import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.ServerConfig;
import dev.tether.gateway.metrics.MeterNames;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionIds;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.session.SessionStore;
import dev.tether.gateway.session.Viewers;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerUnavailableException;
import dev.tether.protocol.Role;
import dev.tether.protocol.UpgradeRefusal;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides about an upgrade request before the WebSocket exists (pipeline stage {@link
 * GatewayPipeline#UPGRADE}): the path, that it is a WebSocket upgrade, the {@code Origin}, the token
 * and, for a new session, admission: a session slot and a worker are reserved here, so that "no
 * capacity" can still be an HTTP answer. A refusal is a plain HTTP response and a close; an accepted
 * request travels on to Netty's handshake with an {@link UpgradeTicket} on the channel, and this
 * handler removes itself.
 *
 * <p>Nothing here depends on whether a session exists: resumes are checked after the handshake, so
 * the HTTP answer never tells an attacker which ids are live. Runs on the channel's event loop; a
 * connection whose upgrade has not completed within {@code server.handshake_timeout} is closed: the
 * timer stays armed until {@link SessionHandler} sees the handshake complete and removes this
 * handler, so an upgrade that Netty's handshaker does not finish can never hold its reservation.
 *
 * <p><b>One rule for the path.</b> The request target's raw path (before any {@code ?}, never
 * percent-decoded) must equal {@code server.path} exactly; anything else is 404 and closed. An
 * accepted request goes on to Netty's handshaker with its URI rewritten to exactly that path (the
 * query, already read into the {@link UpgradeTicket}, stays behind), and the handshaker is configured
 * to match exactly that path, so the two can never disagree about which requests are upgrades.
 *
 * <p><b>One request per decision.</b> Each request on a keep-alive connection is checked on its
 * own. Once a request has been refused or forwarded, nothing else on the connection is looked at:
 * a refusal closes it, and any further request while an accepted upgrade completes closes it too,
 * so no request can ride on another's credentials.
 *
 * <p>First of all, every accepted TCP connection counts as an attempt against its peer address's
 * {@link AddressRateLimiter} bucket. An attempt over the limit is refused with 429 {@code
 * too_many_connections} as soon as its request arrives, before the request is even looked at, with a
 * {@code Retry-After} saying when the address gets its next token, so a flood costs no parsing of
 * tokens. (Counting at accept, not at the request, also counts connections that never send one.)
 *
 * <p><b>Viewers</b> ({@code role=viewer}, contract 7.4) need a {@code session}; a {@code role} other
 * than {@code owner} or {@code viewer} is 400 {@code bad_request}. A viewer never reserves a slot or
 * a worker (it never takes a session over). When the session is here and the token may view it (its
 * owner, or its {@code view} claim lists it) a place among its viewers is reserved, and a session
 * with {@code sessions.max_viewers_per_session} viewers is 429 {@code too_many_connections}: only
 * someone who may see the session learns that it exists.
 *
 * <p><b>Batched delivery</b> ({@code batch=<ms>}, contract 8.4): a value that is not an integer
 * from 1 to 1000 is 400 {@code bad_request}, like a bad {@code role}. An accepted one, cut to {@code
 * server.max_batch_delay}, leaves a {@link BatchHandler} on the channel for {@link SessionHandler}
 * to install at the handshake; with {@code server.max_batch_delay: 0} none is made and the
 * connection gets one message per frame.
 *
 * <p>While the gateway drains ({@link SessionRegistry#draining()}), every well-formed upgrade to the
 * WebSocket path, new session or resume, is refused with 503 {@code shutting_down} and a {@code
 * Retry-After} of {@code drain.retry_after}, before its token is looked at.
 */
final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(UpgradeHandler.class);

    /** The only {@code Sec-WebSocket-Version} accepted: RFC 6455. */
    static final String WEBSOCKET_VERSION = "13";

    private final ServerConfig server;
    private final AuthConfig auth;
    private final TokenVerification verifier;
    private final SessionRegistry registry;
    private final Refusals refusals;
    private final AddressRateLimiter addresses;
    /** {@code drain.retry_after} in seconds: the {@code Retry-After} of 503 {@code shutting_down}. */
    private final long drainRetryAfterSeconds;

    private ScheduledFuture<?> timeout;
    /** Whether the connection was over its address's rate when accepted: its request gets a 429. */
    private boolean overRate;
    /**
     * A request was refused (the connection is closing) or forwarded to the handshaker (the upgrade
     * is completing): every later request on the connection is dropped and the connection closed.
     */
    private boolean decided;

    UpgradeHandler(
            ServerConfig server,
            AuthConfig auth,
            TokenVerification verifier,
            SessionRegistry registry,
            Refusals refusals,
            AddressRateLimiter addresses,
            long drainRetryAfterSeconds) {
        this.drainRetryAfterSeconds = drainRetryAfterSeconds;
        this.addresses = requireNonNull(addresses, "addresses");
        this.server = requireNonNull(server, "server");
        this.auth = requireNonNull(auth, "auth");
        this.verifier = requireNonNull(verifier, "verifier");
        this.registry = requireNonNull(registry, "registry");
        this.refusals = requireNonNull(refusals, "refusals");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        overRate = addresses.tryAcquire(ctx.channel().remoteAddress()) > 0;
        timeout = ctx.executor()
                .schedule(
                        () -> {
                            log.debug(
                                    "closing {}: no upgrade within {}",
                                    ctx.channel().remoteAddress(),
                                    server.handshakeTimeout());
                            Unwatched.close(ctx);
                        },
                        server.handshakeTimeout().toNanos(),
                        TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (decided) {
            log.debug(
                    "closing {}: another request after its upgrade was decided",
                    ctx.channel().remoteAddress());
            Unwatched.close(ctx);
            return;
        }
        decided = true;
        if (overRate) {
            long waitNanos = addresses.nanosUntilAllowed(ctx.channel().remoteAddress());
            log.debug(
                    "upgrade refused: {} over its connection rate",
                    ctx.channel().remoteAddress());
            refusals.refuse(
                    ctx,
                    UpgradeRefusal.TOO_MANY_CONNECTIONS,
                    "too many connection attempts from this address",
                    Math.max(1, TimeUnit.NANOSECONDS.toSeconds(waitNanos + TimeUnit.SECONDS.toNanos(1) - 1)));
            return;
        }
        if (!request.decoderResult().isSuccess()) {
            refusals.refuse(ctx, UpgradeRefusal.BAD_REQUEST, "malformed HTTP request");
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        try {
            // Decoded here, once (the decoder caches both): a malformed percent-escape is the
            // client's error, not an exception for the end of the pipeline to log and drop.
            uri.path();
            uri.parameters();
        } catch (IllegalArgumentException e) {
            refusals.refuse(ctx, UpgradeRefusal.BAD_REQUEST, "malformed request URI");
            return;
        }
        if (!isEndpoint(request.uri(), server.path())) {
            refusals.refuse(ctx, UpgradeRefusal.NOT_FOUND, "no such endpoint");
            return;
        }
        if (!isWebSocketUpgrade(request)) {
            refusals.refuse(
                    ctx, UpgradeRefusal.BAD_REQUEST, "expected a WebSocket upgrade (GET with Upgrade: websocket)");
            return;
        }
        if (!isRfc6455(request)) {
            refusals.refuse(
                    ctx,
                    UpgradeRefusal.BAD_REQUEST,
                    "expected Sec-WebSocket-Version: " + WEBSOCKET_VERSION + " and a Sec-WebSocket-Key",
                    new DefaultHttpHeaders().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, WEBSOCKET_VERSION));
            return;
        }
        String roleProblem = roleProblem(uri);
        if (roleProblem != null) {
            refusals.refuse(ctx, UpgradeRefusal.BAD_REQUEST, roleProblem);
            return;
        }
        int batchMillis = BatchHandler.parseDelayMillis(first(uri, "batch"));
        if (batchMillis < 0) {
            refusals.refuse(ctx, UpgradeRefusal.BAD_REQUEST, BatchHandler.EXPECTED);
            return;
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !server.originAllowed(origin)) {
            refusals.refuse(ctx, UpgradeRefusal.ORIGIN_FORBIDDEN, "origin not allowed");
            return;
        }
        if (registry.draining()) {
            // Before the token is even parsed: during a drain nothing is admitted, new or resumed.
            refusals.refuse(ctx, UpgradeRefusal.SHUTTING_DOWN, "the gateway is shutting down", drainRetryAfterSeconds);
            return;
        }
        Optional<String> credential = Credentials.bearerToken(request.headers(), request.uri(), auth.allowQueryToken());
        if (credential.isEmpty()) {
            registry.metrics().authFailed(MeterNames.STAGE_UPGRADE, MeterNames.AUTH_MISSING_TOKEN);
            refusals.refuse(ctx, UpgradeRefusal.UNAUTHORIZED, "missing bearer token");
            return;
        }
        VerifiedToken token;
        try {
            token = verifier.verify(credential.get());
        } catch (TokenRejectedException e) {
            registry.metrics().authFailed(MeterNames.STAGE_UPGRADE, e.reason().name());
            log.atInfo()
                    .addKeyValue("remote", ctx.channel().remoteAddress())
                    .log("upgrade refused: {}", e.getMessage());
            refusals.refuse(ctx, UpgradeRefusal.UNAUTHORIZED, e.getMessage());
            return;
        }
        UpgradeTicket ticket = ticketFor(ctx, uri, token);
        if (ticket == null) {
            return;
        }
        ctx.channel()
                .attr(BatchHandler.KEY)
                .set(BatchHandler.forRequest(batchMillis, server.maxBatchDelay().toNanos(), server.maxFrameBytes()));
        if (ticket instanceof UpgradeTicket.Create create && registry.store().shared()) {
            registerShared(ctx, request.retain(), create, created -> created);
            return;
        }
        if (ticket instanceof UpgradeTicket.Fork fork && registry.store().shared()) {
            registerShared(
                    ctx, request.retain(), fork.create(), created -> new UpgradeTicket.Fork(created, fork.parent()));
            return;
        }
        handshake(ctx, request.retain(), ticket);
    }

    /** Hands {@code request} (one reference, passed on) to Netty's handshake, with {@code ticket} on the channel. */
    private void handshake(ChannelHandlerContext ctx, FullHttpRequest request, UpgradeTicket ticket) {
        ctx.channel().attr(UpgradeTicket.KEY).set(ticket);
        Credentials.strip(request.headers());
        // The handshaker matches exactly server.path: it sees the one spelling this check accepted.
        request.setUri(server.path());
        ctx.fireChannelRead(request);
    }

    /**
     * With the shared store, a new session is registered there before the handshake, and counted
     * against its user on every node: a user at {@code max_sessions_per_user} across the nodes gets
     * 429, and a store that cannot be reached 503 {@code at_capacity} with {@code Retry-After}.
     * {@code request} is held (one reference) until then; {@code ticket} makes the registered session's
     * ticket (a fork stays a fork).
     */
    private void registerShared(
            ChannelHandlerContext ctx,
            FullHttpRequest request,
            UpgradeTicket.Create create,
            Function<UpgradeTicket.Create, UpgradeTicket> ticket) {
        String subject = create.token().subject();
        String id = registry.nextId();
        registry.store()
                .create(
                        id,
                        subject,
                        create.token().expiresAt().getEpochSecond(),
                        ctx.channel().eventLoop())
                .whenComplete((creation, error) -> ctx.executor().execute(() -> {
                    if (creation instanceof SessionStore.Creation.Created created
                            && ctx.channel().isActive()) {
                        handshake(
                                ctx,
                                request,
                                ticket.apply(new UpgradeTicket.Create(
                                        create.token(), create.worker(), id, created.journal())));
                        return;
                    }
                    request.release();
                    registry.release(subject);
                    create.worker().thenAccept(Worker::stop);
                    if (creation instanceof SessionStore.Creation.Created) {
                        registry.store().abandon(id, subject); // the client went away meanwhile
                    } else if (creation instanceof SessionStore.Creation.UserLimit) {
                        refusals.refuse(ctx, UpgradeRefusal.TOO_MANY_CONNECTIONS, "too many sessions for this user");
                    } else {
                        log.atWarn()
                                .addKeyValue("subject", subject)
                                .log("upgrade refused: the session store: {}", String.valueOf(error));
                        refusals.refuse(ctx, UpgradeRefusal.AT_CAPACITY, "the session store cannot be reached");
                    }
                }));
    }

    /**
     * Whether {@code requestTarget} addresses the WebSocket endpoint {@code path}: its raw path, up
     * to the first {@code ?}, is exactly {@code path}. Nothing is decoded or normalised, so
     * {@code /%77s}, {@code /ws/}, {@code /ws#x} or {@code //ws} are other endpoints (404), never
     * another spelling of this one.
     */
    static boolean isEndpoint(String requestTarget, String path) {
        int query = requestTarget.indexOf('?');
        return requestTarget.regionMatches(0, path, 0, path.length())
                && (query < 0 ? requestTarget.length() : query) == path.length();
    }

    /**
     * The handshake completed: the connection is a WebSocket now, so its handshake timer is done
     * and this handler leaves the pipeline. Called by {@link SessionHandler}, on the channel's loop.
     */
    static void upgraded(ChannelPipeline pipeline) {
        UpgradeHandler handler = pipeline.get(UpgradeHandler.class);
        if (handler != null) {
            pipeline.remove(handler);
        }
    }

    /** A resume ticket, or a create ticket once admission reserved a slot; null after a refusal. */
    private UpgradeTicket ticketFor(ChannelHandlerContext ctx, QueryStringDecoder uri, VerifiedToken token) {
        String sessionId = first(uri, "session");
        if (sessionId != null && Role.VIEWER.wire().equals(first(uri, "role"))) {
            return viewTicket(ctx, token, sessionId, first(uri, "last_seq"));
        }
        if (sessionId != null) {
            if (!registry.store().shared()
                    || registry.get(sessionId).isPresent()
                    || !SessionIds.wellFormed(sessionId)) {
                return new UpgradeTicket.Resume(token, sessionId, first(uri, "last_seq"));
            }
            // Maybe another node's: a slot and a worker are reserved to take it over.
            CompletionStage<Worker> worker = admitted(ctx, token, registry.admitMove(token.subject()));
            return worker == null ? null : new UpgradeTicket.Resume(token, sessionId, first(uri, "last_seq"), worker);
        }
        // A fork (contract 1.2, 8.2) is admitted exactly as a new session; its parent is looked for
        // after the handshake, so no answer here depends on whether that session exists.
        String forkOf = first(uri, "fork");
        // wait=1 (contract 8.1) only for a new session; with the shared store the line is this node's
        // own, and a waiter is registered in the store once admitted (WaitingConnection).
        boolean mayWait = "1".equals(first(uri, "wait"));
        SessionRegistry.Admission admission = registry.admit(token.subject());
        if (mayWait && admission == SessionRegistry.Admission.AT_CAPACITY) {
            return waitTicket(ctx, token, forkOf);
        }
        if (mayWait && admission == SessionRegistry.Admission.ADMITTED) {
            try {
                return newSession(
                        new UpgradeTicket.Create(token, registry.workers().acquire()), forkOf);
            } catch (WorkerUnavailableException e) {
                registry.release(token.subject());
                return waitTicket(ctx, token, forkOf);
            }
        }
        CompletionStage<Worker> worker = admitted(ctx, token, admission);
        return worker == null ? null : newSession(new UpgradeTicket.Create(token, worker), forkOf);
    }

    /** {@code create}, or a fork of {@code forkOf} admitted as {@code create} when that is not null. */
    private static UpgradeTicket newSession(UpgradeTicket.Create create, String forkOf) {
        return forkOf == null ? create : new UpgradeTicket.Fork(create, forkOf);
    }

    /** A place in the admission line (for a fork of {@code forkOf}, or null), or null after the 503 of a full line. */
    private UpgradeTicket waitTicket(ChannelHandlerContext ctx, VerifiedToken token, String forkOf) {
        if (!registry.admission().reserve(token.subject())) {
            refusals.refuse(ctx, UpgradeRefusal.AT_CAPACITY, "the gateway is at capacity and its waiting line is full");
            return null;
        }
        return new UpgradeTicket.Wait(token, forkOf);
    }

    /**
     * A viewer's ticket: with a place reserved among the session's viewers when the session is here
     * and {@code token} may view it; null after the 429 of a session that has its viewers.
     */
    private UpgradeTicket viewTicket(ChannelHandlerContext ctx, VerifiedToken token, String sessionId, String lastSeq) {
        Session session = registry.get(sessionId).orElse(null);
        if (session == null || !token.mayView(sessionId, session.subject())) {
            return new UpgradeTicket.View(token, sessionId, lastSeq, null, null); // answered after the handshake
        }
        Viewers.Slot slot = session.reserveViewer();
        if (slot == null) {
            refusals.refuse(ctx, UpgradeRefusal.TOO_MANY_CONNECTIONS, "too many viewers of this session");
            return null;
        }
        return new UpgradeTicket.View(token, sessionId, lastSeq, session, slot);
    }

    /**
     * What is wrong with the {@code role} parameter, or null: absent, {@code owner} and {@code viewer}
     * are fine; a viewer needs a {@code session}.
     */
    static String roleProblem(QueryStringDecoder uri) {
        if (first(uri, "fork") != null && first(uri, "session") != null) {
            // A fork is a new session; session= resumes one. Both at once is a client's mistake.
            return "fork=<id> starts a new session and cannot be combined with session=<id>";
        }
        String role = first(uri, "role");
        if (role == null || Role.OWNER.wire().equals(role)) {
            return null;
        }
        if (!Role.VIEWER.wire().equals(role)) {
            return "role must be owner or viewer";
        }
        return first(uri, "session") == null ? "role=viewer needs session=<id>" : null;
    }

    /** Acquires a worker for a session slot that {@code admission} reserved; null after a refusal. */
    private CompletionStage<Worker> admitted(
            ChannelHandlerContext ctx, VerifiedToken token, SessionRegistry.Admission admission) {
        switch (admission) {
            case AT_CAPACITY -> {
                refusals.refuse(ctx, UpgradeRefusal.AT_CAPACITY, "the gateway is at its session limit");
                return null;
            }
            case USER_LIMIT -> {
                refusals.refuse(ctx, UpgradeRefusal.TOO_MANY_CONNECTIONS, "too many sessions for this user");
                return null;
            }
            default -> {
                try {
                    return registry.workers().acquire();
                } catch (WorkerUnavailableException e) {
                    registry.release(token.subject());
                    log.atInfo().addKeyValue("subject", token.subject()).log("upgrade refused: {}", e.getMessage());
                    refusals.refuse(ctx, UpgradeRefusal.AT_CAPACITY, "no worker available");
                    return null;
                }
            }
        }
    }

    private static boolean isWebSocketUpgrade(FullHttpRequest request) {
        return HttpMethod.GET.equals(request.method())
                && request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    /**
     * Whether the request is an RFC 6455 handshake: version 13 with a key. Netty's handshaker
     * factory would also take the drafts (versions 0, 7 and 8) and answer a missing key or version
     * with its own plain-text 400, but refusals must be JSON and the pipeline after the handshake
     * is built for RFC 6455 frames. The version header in the refusal is what RFC 6455 section 4.4
     * asks a server to name.
     */
    private static boolean isRfc6455(FullHttpRequest request) {
        String version = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION);
        String key = request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY);
        return version != null && WEBSOCKET_VERSION.equals(version.strip()) && key != null && !key.isBlank();
    }

    private static String first(QueryStringDecoder uri, String name) {
        List<String> values = uri.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
