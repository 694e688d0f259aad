package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.session.EncodedFrame;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.store.MemorySessionStore;
import dev.tether.gateway.store.StoredFormat;
import dev.tether.gateway.worker.EchoWorker;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.gateway.worker.Worker;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * {@link SessionHandler} on an {@link EmbeddedChannel} with a real {@link SessionRegistry}. The
 * embedded channel's loop is also the session's loop, so {@code runPendingTasks()} runs the
 * session's hand-overs. FrameCodec is not in this pipeline: what the handler writes arrives as
 * {@link ServerMessage}, {@link EncodedFrame} and {@link CloseWebSocketFrame} objects.
 */
class SessionHandlerTest {

    private static final String SUBJECT = "alice";

    private final GatewayConfig config = ConfigLoader.parse("""
            sessions:
              max_sessions_per_user: 2
            worker:
              echo:
                deltas: 2
                delta_interval: 0ms
            """, Map.of());
    private final WireCodec codec = new WireCodec();
    private final TokenVerifier verifier = verifier(config.auth());
    /** The in-process store's records, by session id: a test rewrites one as another release would. */
    private final ConcurrentHashMap<String, MemorySessionStore.Entry> records = new ConcurrentHashMap<>();

    private final SessionRegistry registry = new SessionRegistry(
            config,
            codec,
            verifier,
            new EchoWorkerSource(
                    config.worker().echo().deltas(), config.worker().echo().deltaInterval()),
            Ticker.systemTicker(),
            Clock.systemUTC(),
            GatewayMetrics.NONE,
            new MemorySessionStore(StoredFormat.ofThisRelease(), records));
    private final EmbeddedChannel channel = new EmbeddedChannel(new SessionHandler(registry));

    /** A ready in-process worker, as the echo worker source hands out. */
    private static CompletionStage<Worker> echoWorker() {
        return CompletableFuture.completedFuture(new EchoWorker(2, Duration.ZERO));
    }

    @Test
    void createTicketStartsASessionAndSendsSessionReady() throws Exception {
        VerifiedToken token = token(SUBJECT);
        handshake(new UpgradeTicket.Create(token, echoWorker()));

        ServerMessage.SessionReady ready = assertInstanceOf(ServerMessage.SessionReady.class, single());
        assertFalse(ready.resumed());
        assertEquals(0, ready.lastSeq());
        assertEquals(SessionState.IDLE, ready.state());
        assertEquals(token.expiresAt().getEpochSecond(), ready.tokenExpiresAt());
        assertEquals(1, registry.size());
        assertTrue(registry.get(ready.sessionId()).isPresent());
        assertNull(channel.attr(UpgradeTicket.KEY).get(), "the ticket is consumed");
        assertFalse(channel.finish());
    }

    /**
     * A worker that is not ready at once makes the session emit {@code status preparing} (seq 1)
     * before the creating connection is attached; that connection must still get seq 1.
     */
    @Test
    void historyFromBeforeTheFirstAttachReachesTheNewConnection() throws Exception {
        CompletableFuture<Worker> pending = new CompletableFuture<>();
        SessionRegistry slowWorkers = new SessionRegistry(
                config.sessions(),
                config.limits(),
                codec,
                verifier,
                new WorkerSource() {
                    @Override
                    public CompletionStage<Worker> acquire() {
                        return pending;
                    }

                    @Override
                    public void close() {}
                },
                Ticker.systemTicker());
        EmbeddedChannel created = new EmbeddedChannel(new SessionHandler(slowWorkers));
        assertEquals(SessionRegistry.Admission.ADMITTED, slowWorkers.admit(SUBJECT));
        created.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Create(token(SUBJECT), pending));
        created.pipeline().fireUserEventTriggered(handshakeComplete());
        created.runPendingTasks();

        List<Object> out = drainOutbound(created);
        ServerMessage.SessionReady ready =
                assertInstanceOf(ServerMessage.SessionReady.class, out.get(0), out.toString());
        assertFalse(ready.resumed());
        assertEquals(SessionState.PREPARING, ready.state());
        assertEquals(1, ready.lastSeq());
        assertEquals(
                List.of(new ServerMessage.Status(1, SessionState.PREPARING, null)),
                out.subList(1, out.size()),
                "seq 1 is not skipped");

        pending.complete(new EchoWorker(2, Duration.ZERO));
        created.runPendingTasks();
        assertEquals(List.of(new ServerMessage.Status(2, SessionState.IDLE, null)), drainOutbound(created));
        assertFalse(created.finish());
        assertFalse(channel.finish());
    }

    @Test
    void resumeOfAnUnknownSessionIsNotFoundAnd4004() throws Exception {
        handshake(new UpgradeTicket.Resume(token(SUBJECT), "AAAAAAAAAAAAAAAAAAAAAA", "0"));

        List<Object> out = drainOutbound();
        assertEquals(2, out.size(), out.toString());
        assertEquals(
                ErrorCode.SESSION_NOT_FOUND,
                assertInstanceOf(ServerMessage.ErrorFrame.class, out.get(0)).code());
        assertEquals(CloseCode.SESSION_NOT_FOUND.code(), closeCode(out.get(1)));
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void resumeOfAnotherUsersSessionIsAnsweredLikeAnUnknownOne() throws Exception {
        String id = createSession("bob");
        handshake(new UpgradeTicket.Resume(token(SUBJECT), id, "0"));

        List<Object> out = drainOutbound();
        assertEquals(2, out.size(), out.toString());
        ServerMessage.ErrorFrame error = assertInstanceOf(ServerMessage.ErrorFrame.class, out.get(0));
        assertEquals(ServerMessage.ErrorFrame.of(ErrorCode.SESSION_NOT_FOUND, "no such session"), error);
        assertEquals(CloseCode.SESSION_NOT_FOUND.code(), closeCode(out.get(1)));
        assertFalse(channel.finish());
    }

    /**
     * The in-process store records each session's format like the shared store (contract 1.2, 8.8),
     * and a record of a format this release cannot read is refused the same way: error
     * {@code session_incompatible} and close 4004, for the owner and a viewer alike, with the record
     * and the session left as they are.
     */
    @Test
    void resumeOfASessionRecordedInAnUnreadableFormatIsIncompatibleAnd4004() throws Exception {
        String id = createSession(SUBJECT);
        assertEquals(new MemorySessionStore.Entry(SUBJECT, StoredFormat.CURRENT), records.get(id));
        MemorySessionStore.Entry newer = new MemorySessionStore.Entry(SUBJECT, "2");
        records.put(id, newer); // as a release that writes format "2" would have left it

        handshake(new UpgradeTicket.Resume(token(SUBJECT), id, "0"));
        List<Object> out = drainOutbound();
        assertEquals(2, out.size(), out.toString());
        ServerMessage.ErrorFrame error = assertInstanceOf(ServerMessage.ErrorFrame.class, out.get(0));
        assertEquals(ErrorCode.SESSION_INCOMPATIBLE, error.code());
        assertTrue(error.message().contains("format 2"), error.message());
        assertEquals(CloseCode.SESSION_NOT_FOUND.code(), closeCode(out.get(1)));

        EmbeddedChannel viewer = new EmbeddedChannel(new SessionHandler(registry));
        viewer.attr(UpgradeTicket.KEY).set(new UpgradeTicket.View(token(SUBJECT), id, "0", null, null));
        viewer.pipeline().fireUserEventTriggered(handshakeComplete());
        viewer.runPendingTasks();
        List<Object> viewed = drainOutbound(viewer);
        assertEquals(
                ErrorCode.SESSION_INCOMPATIBLE,
                assertInstanceOf(ServerMessage.ErrorFrame.class, viewed.get(0)).code());
        assertEquals(CloseCode.SESSION_NOT_FOUND.code(), closeCode(viewed.get(1)));
        assertFalse(viewer.finish());

        assertEquals(newer, records.get(id), "the record is left as it is");
        assertTrue(registry.get(id).isPresent(), "the session is left as it is");
        records.put(id, new MemorySessionStore.Entry(SUBJECT, StoredFormat.CURRENT));
        EmbeddedChannel readable = new EmbeddedChannel(new SessionHandler(registry));
        readable.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Resume(token(SUBJECT), id, "0"));
        readable.pipeline().fireUserEventTriggered(handshakeComplete());
        channel.runPendingTasks(); // the session's loop
        List<Object> resumed = drainOutbound(readable);
        assertTrue(assertInstanceOf(ServerMessage.SessionReady.class, resumed.get(0))
                .resumed());
        assertFalse(readable.finish());
        assertFalse(channel.finish());
    }

    /** A session's record goes with it when it ends. */
    @Test
    void anEndedSessionLeavesNoRecord() throws Exception {
        String id = createSession(SUBJECT);
        assertTrue(records.containsKey(id));
        CompletableFuture<Void> ended = registry.endAll(EndReason.SHUTDOWN);
        channel.runPendingTasks();
        assertTrue(ended.isDone());
        assertFalse(records.containsKey(id));
        assertFalse(channel.finish());
    }

    @Test
    void malformedLastSeqIsInvalidSequenceAnd4009() throws Exception {
        String id = createSession(SUBJECT);
        for (String bad : List.of("abc", "-1", "1.5", "", "+1", "99999999999999999999", "9223372036854775808")) {
            EmbeddedChannel resume = new EmbeddedChannel(new SessionHandler(registry));
            resume.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Resume(token(SUBJECT), id, bad));
            resume.pipeline().fireUserEventTriggered(handshakeComplete());
            resume.runPendingTasks();

            List<Object> out = drainOutbound(resume);
            assertEquals(2, out.size(), bad + ": " + out);
            assertEquals(
                    ErrorCode.INVALID_SEQUENCE,
                    assertInstanceOf(ServerMessage.ErrorFrame.class, out.get(0)).code(),
                    bad);
            assertEquals(CloseCode.INVALID_SEQUENCE.code(), closeCode(out.get(1)), bad);
            assertFalse(resume.finish());
        }
        assertFalse(channel.finish());
    }

    @Test
    void lastSeqParsing() {
        assertEquals(0, SessionHandler.parseLastSeq(null));
        assertEquals(0, SessionHandler.parseLastSeq("0"));
        assertEquals(42, SessionHandler.parseLastSeq("42"));
        assertEquals(Long.MAX_VALUE, SessionHandler.parseLastSeq("9223372036854775807"));
        for (String bad :
                List.of("", "abc", "-1", "1.5", "1e3", " 1", "+1", "9223372036854775808", "99999999999999999999")) {
            assertEquals(-1, SessionHandler.parseLastSeq(bad), bad);
        }
    }

    @Test
    void resumeOfOwnSessionGetsSessionReadyAndTheReplay() throws Exception {
        // A session with some history, created on this channel's loop and then detached.
        handshake(new UpgradeTicket.Create(token(SUBJECT), echoWorker()));
        String id = assertInstanceOf(ServerMessage.SessionReady.class, single()).sessionId();
        channel.writeInbound(
                new ClientMessage.Message("m1", codec.mapper().getNodeFactory().textNode("hi")));
        channel.runPendingTasks();
        List<Object> first = drainOutbound();
        assertInstanceOf(ServerMessage.Accepted.class, first.get(0));
        int history = first.size() - 1; // processing, 2 deltas, result, idle
        assertEquals(5, history, first.toString());

        EmbeddedChannel resume = new EmbeddedChannel(new SessionHandler(registry));
        // The session lives on `channel`'s loop: hand-overs run when that loop runs its tasks.
        resume.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Resume(token(SUBJECT), id, "2"));
        resume.pipeline().fireUserEventTriggered(handshakeComplete());
        channel.runPendingTasks();

        // The old connection is replaced.
        List<Object> old = drainOutbound();
        assertInstanceOf(ServerMessage.SessionReplaced.class, old.get(0));
        assertEquals(CloseCode.SESSION_REPLACED.code(), closeCode(old.get(1)));
        assertFalse(channel.isOpen());

        List<Object> out = drainOutbound(resume);
        ServerMessage.SessionReady ready = assertInstanceOf(ServerMessage.SessionReady.class, out.get(0));
        assertTrue(ready.resumed());
        assertEquals(5, ready.lastSeq());
        List<Long> seqs = new ArrayList<>();
        for (Object o : out.subList(1, out.size())) {
            seqs.add(assertInstanceOf(ServerMessage.Sequenced.class, o).seq());
        }
        assertEquals(List.of(3L, 4L, 5L), seqs);
        assertFalse(resume.finish());
        channel.runPendingTasks();
        assertFalse(channel.finish());
    }

    @Test
    void decodedMessagesAndFailuresAreHandedToTheSession() throws Exception {
        handshake(new UpgradeTicket.Create(token(SUBJECT), echoWorker()));
        assertInstanceOf(ServerMessage.SessionReady.class, single());

        channel.writeInbound(new ClientMessage.Ping());
        channel.runPendingTasks();
        assertInstanceOf(ServerMessage.Pong.class, single());

        channel.writeInbound(new InboundFailure(ErrorCode.UNKNOWN_TYPE, "no such type: teleport"));
        channel.runPendingTasks();
        ServerMessage.ErrorFrame error = assertInstanceOf(ServerMessage.ErrorFrame.class, single());
        assertEquals(ErrorCode.UNKNOWN_TYPE, error.code());
        assertEquals("no such type: teleport", error.message());

        channel.writeInbound(new InboundFailure(ErrorCode.BINARY_NOT_SUPPORTED, "binary"));
        channel.runPendingTasks();
        assertEquals(
                ErrorCode.BINARY_NOT_SUPPORTED,
                assertInstanceOf(ServerMessage.ErrorFrame.class, single()).code());

        assertTrue(channel.isOpen(), "bad input never closes the connection");
        assertNull(channel.readInbound(), "nothing travels past the session handler");
        assertFalse(channel.finish());
    }

    @Test
    void framesBeforeTheHandshakeAreDropped() {
        channel.writeInbound(new ClientMessage.Ping());
        channel.runPendingTasks();
        assertNull(channel.readOutbound());
        assertNull(channel.readInbound());
        assertFalse(channel.finish());
    }

    @Test
    void handshakeWithoutATicketCloses() {
        channel.pipeline().fireUserEventTriggered(handshakeComplete());
        channel.runPendingTasks();
        assertFalse(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void otherUserEventsTravelOn() {
        Object event = new Object();
        List<Object> seen = new ArrayList<>();
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                seen.add(evt);
            }
        });
        channel.pipeline().fireUserEventTriggered(event);
        assertEquals(List.of(event), seen);
        assertFalse(channel.finish());
    }

    @Test
    void closingBeforeTheHandshakeReleasesTheAdmissionSlot() throws Exception {
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        channel.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Create(token(SUBJECT), echoWorker()));
        assertTrue(channel.close().isSuccess());
        channel.runPendingTasks();

        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        assertEquals(SessionRegistry.Admission.USER_LIMIT, registry.admit(SUBJECT), "the limit is 2");
        assertFalse(channel.finish());
    }

    @Test
    void closingBeforeTheHandshakeOfAResumeReleasesNothing() throws Exception {
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        channel.attr(UpgradeTicket.KEY).set(new UpgradeTicket.Resume(token(SUBJECT), "AAAAAAAAAAAAAAAAAAAAAA", "0"));
        assertTrue(channel.close().isSuccess());
        channel.runPendingTasks();

        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        assertEquals(SessionRegistry.Admission.USER_LIMIT, registry.admit(SUBJECT), "the first slot is still held");
        assertFalse(channel.finish());
    }

    @Test
    void closingAfterTheHandshakeDetachesButKeepsTheSession() throws Exception {
        handshake(new UpgradeTicket.Create(token(SUBJECT), echoWorker()));
        String id = assertInstanceOf(ServerMessage.SessionReady.class, single()).sessionId();
        assertTrue(channel.close().isSuccess());
        channel.runPendingTasks();
        assertTrue(registry.get(id).isPresent(), "a detached session waits for its client");
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(SUBJECT));
        assertEquals(SessionRegistry.Admission.USER_LIMIT, registry.admit(SUBJECT), "the session still holds its slot");
        assertFalse(channel.finish());
    }

    // ---- helpers ----

    /** What the upgrade handler leaves behind, then the handshake; a create ticket comes with a reserved slot. */
    private void handshake(UpgradeTicket ticket) {
        if (ticket instanceof UpgradeTicket.Create) {
            assertEquals(
                    SessionRegistry.Admission.ADMITTED,
                    registry.admit(ticket.token().subject()));
        }
        channel.attr(UpgradeTicket.KEY).set(ticket);
        channel.pipeline().fireUserEventTriggered(handshakeComplete());
        channel.runPendingTasks();
    }

    /** A session of {@code subject} on {@code channel}'s loop, with no connection, in a slot reserved like the upgrade does. */
    private String createSession(String subject) {
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit(subject));
        String id = registry.create(subject, channel.eventLoop(), echoWorker()).id();
        channel.runPendingTasks();
        return id;
    }

    private static WebSocketServerProtocolHandler.HandshakeComplete handshakeComplete() {
        return new WebSocketServerProtocolHandler.HandshakeComplete(
                "/ws", new DefaultHttpHeaders(), GatewayPipeline.SUBPROTOCOL);
    }

    /** Exactly one outbound message, decoded. */
    private Object single() {
        List<Object> out = drainOutbound();
        assertEquals(1, out.size(), out.toString());
        return out.get(0);
    }

    private List<Object> drainOutbound() {
        return drainOutbound(channel);
    }

    /**
     * Everything written so far: ServerMessages as they are, EncodedFrames decoded to
     * ServerMessages, close frames as their status code (Integer). Releases what it reads.
     */
    private List<Object> drainOutbound(EmbeddedChannel ch) {
        List<Object> out = new ArrayList<>();
        Object msg;
        while ((msg = ch.readOutbound()) != null) {
            try {
                if (msg instanceof EncodedFrame frame) {
                    out.add(codec.decodeServer(new String(frame.json(), StandardCharsets.UTF_8)));
                } else if (msg instanceof CloseWebSocketFrame close) {
                    out.add(close.statusCode());
                } else {
                    out.add(msg);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        return out;
    }

    private static int closeCode(Object drained) {
        return assertInstanceOf(Integer.class, drained, "expected a close frame");
    }

    private VerifiedToken token(String subject) throws TokenRejectedException {
        TokenMinter minter = new TokenMinter(
                config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), AuthConfig.HS256, Clock.systemUTC());
        return verifier.verify(minter.mint(subject, Duration.ofHours(1), Map.of()));
    }

    /** Built the way GatewayServer builds it (HMAC only here: the test config names no public keys). */
    private static TokenVerifier verifier(AuthConfig auth) {
        byte[] secret = auth.hmacSecret().getBytes(StandardCharsets.UTF_8);
        return new TokenVerifier(
                new HashSet<>(auth.algorithms()),
                secret,
                List.of(),
                auth.issuer(),
                auth.audience(),
                auth.clockSkew(),
                Clock.systemUTC());
    }
}
