package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenRejectedException;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.worker.EchoWorker;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import dev.tether.testkit.ManualClock;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * In-band token refresh on one connection, driven deterministically: the session's loop runs with
 * frozen time and the wall clock used for token expiry moves with it.
 */
class TokenRefreshTest {

    private static final WireCodec CODEC = new WireCodec();
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final String CONFIG = """
            auth:
              refresh_lead: 60s
              refresh_interval: 15s
              expired_grace: 30s
              clock_skew: 0s
            limits:
              first_message_timeout: 1h
              idle_timeout: 1h
            worker:
              kind: echo
              echo:
                deltas: 1
                delta_interval: 0ms
            """;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-11-22T12:00:00Z"));
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final TokenMinter minter = new TokenMinter(SECRET, "HS256", clock);
    private final TokenVerifier verifier =
            new TokenVerifier(Set.of("HS256"), SECRET, List.of(), null, null, Duration.ZERO, clock);
    private SessionRegistry registry;
    private Session session;
    private Connection connection;

    private void start(Duration tokenLifetime) {
        channel.freezeTime();
        GatewayConfig config = ConfigLoader.parse(CONFIG, Map.of());
        registry = new SessionRegistry(
                config,
                CODEC,
                verifier,
                new EchoWorkerSource(1, Duration.ZERO),
                Ticker.systemTicker(),
                clock,
                GatewayMetrics.NONE,
                SessionStore.MEMORY);
        registry.admit("alice");
        session = registry.create(
                "alice", channel.eventLoop(), CompletableFuture.completedFuture(new EchoWorker(1, Duration.ZERO)));
        connection = connect(tokenLifetime);
    }

    private Connection connect(Duration tokenLifetime) {
        Connection fresh =
                new Connection(channel, verify(minter.mint("alice", tokenLifetime, Map.of("role", "reader"))));
        session.attach(fresh, 0, true);
        channel.runPendingTasks();
        return fresh;
    }

    private VerifiedToken verify(String token) {
        try {
            return verifier.verify(token);
        } catch (TokenRejectedException e) {
            throw new AssertionError(e);
        }
    }

    @AfterEach
    void finish() {
        drain();
        channel.finishAndReleaseAll();
    }

    private void advance(Duration duration) {
        clock.advance(duration);
        channel.advanceTimeBy(duration.toNanos(), TimeUnit.NANOSECONDS);
        channel.runScheduledPendingTasks();
        channel.runPendingTasks();
    }

    private List<Object> drain() {
        channel.runPendingTasks();
        List<Object> out = new ArrayList<>();
        Object message;
        while ((message = channel.readOutbound()) != null) {
            if (message instanceof EncodedFrame frame) {
                out.add(CODEC.decodeServer(new String(frame.json(), StandardCharsets.UTF_8)));
            } else if (message instanceof CloseWebSocketFrame close) {
                out.add("close " + close.statusCode());
                ReferenceCountUtil.release(close);
            } else {
                out.add(message);
            }
        }
        return out;
    }

    private void receive(ClientMessage message) {
        session.receive(connection, message);
        channel.runPendingTasks();
    }

    private static long refreshRequests(List<Object> out) {
        return out.stream()
                .filter(m -> m instanceof ServerMessage.RefreshRequired)
                .count();
    }

    @Test
    void refreshRequiredComesRefreshLeadBeforeExpiryAndRepeatsUntilRefreshed() {
        start(Duration.ofMinutes(10));
        drain();
        advance(Duration.ofMinutes(9).minusSeconds(1));
        assertEquals(0, refreshRequests(drain()));
        advance(Duration.ofSeconds(1));
        List<Object> first = drain();
        ServerMessage.RefreshRequired ask = assertInstanceOf(ServerMessage.RefreshRequired.class, first.get(0));
        assertEquals(clock.instant().plusSeconds(60).getEpochSecond(), ask.expiresAt());
        advance(Duration.ofSeconds(15));
        assertEquals(1, refreshRequests(drain()), "repeated every refresh_interval");
        advance(Duration.ofSeconds(15));
        assertEquals(1, refreshRequests(drain()));

        receive(new ClientMessage.AuthRefresh(minter.mint("alice", Duration.ofMinutes(10), Map.of())));
        ServerMessage.AuthOk ok = assertInstanceOf(ServerMessage.AuthOk.class, drain().get(0));
        assertEquals(clock.instant().plus(Duration.ofMinutes(10)).getEpochSecond(), ok.expiresAt());
        advance(Duration.ofMinutes(5));
        assertEquals(0, refreshRequests(drain()), "a refreshed connection is left alone until its new lead time");
        assertTrue(channel.isOpen());
    }

    @Test
    void aTokenAlreadyInsideTheLeadIsAskedForRightAfterSessionReady() {
        start(Duration.ofSeconds(30));
        List<Object> out = drain();
        assertInstanceOf(ServerMessage.SessionReady.class, out.get(0));
        assertInstanceOf(ServerMessage.RefreshRequired.class, out.get(1));
    }

    @Test
    void afterExpiryMessagesAreRefusedThenTheGraceEndsWith4010AndTheSessionCanBeResumed() {
        start(Duration.ofMinutes(2));
        drain();
        advance(Duration.ofMinutes(2));
        drain();
        receive(new ClientMessage.Message("m1", TextNode.valueOf("late")));
        ServerMessage.ErrorFrame expired = assertInstanceOf(ServerMessage.ErrorFrame.class, drain().get(0));
        assertEquals(ErrorCode.TOKEN_EXPIRED, expired.code());
        assertEquals("m1", expired.id());
        receive(new ClientMessage.Ping());
        assertInstanceOf(ServerMessage.Pong.class, drain().get(0), "only messages are refused");

        advance(Duration.ofSeconds(29));
        assertTrue(drain().stream().noneMatch(m -> m instanceof String));
        advance(Duration.ofSeconds(1));
        assertTrue(drain().contains("close " + CloseCode.TOKEN_EXPIRED.code()));

        session.detach(connection);
        channel.runPendingTasks();
        assertEquals(1, registry.size(), "the session outlives the expired connection");
        EmbeddedChannel next = new EmbeddedChannel();
        try {
            connection = new Connection(next, verify(minter.mint("alice", Duration.ofMinutes(10), Map.of())));
            session.attach(connection, 0, true);
            channel.runPendingTasks();
            assertInstanceOf(ServerMessage.SessionReady.class, next.readOutbound());
            receive(new ClientMessage.Message("m1", TextNode.valueOf("again")));
            assertEquals(
                    new ServerMessage.Accepted("m1", false, 0), next.readOutbound(), "the refused id was not taken");
        } finally {
            next.finishAndReleaseAll();
        }
    }

    @Test
    void aRefreshDuringTheGraceRestoresTheConnection() {
        start(Duration.ofMinutes(2));
        advance(Duration.ofMinutes(2).plusSeconds(10));
        drain();
        receive(new ClientMessage.AuthRefresh(minter.mint("alice", Duration.ofMinutes(10), Map.of())));
        assertInstanceOf(ServerMessage.AuthOk.class, drain().get(0));
        advance(Duration.ofMinutes(1));
        assertTrue(drain().stream().noneMatch(m -> m instanceof String), "no 4010 after a refresh");
        receive(new ClientMessage.Message("m1", TextNode.valueOf("hi")));
        assertEquals(new ServerMessage.Accepted("m1", false, 0), drain().get(0));
    }

    @Test
    void aTokenForAnotherSubjectIsRefusedAndChangesNothing() {
        start(Duration.ofMinutes(2));
        drain();
        receive(new ClientMessage.AuthRefresh(minter.mint("mallory", Duration.ofMinutes(10), Map.of())));
        ServerMessage.ErrorFrame refused = assertInstanceOf(ServerMessage.ErrorFrame.class, drain().get(0));
        assertEquals(ErrorCode.AUTH_REFRESH_FAILED, refused.code());
        assertEquals("alice", connection.token().subject());
        advance(Duration.ofMinutes(2).plusSeconds(30));
        assertTrue(drain().contains("close " + CloseCode.TOKEN_EXPIRED.code()), "the old expiry still holds");
    }

    @Test
    void anExpiredOrInvalidTokenIsRefused() {
        start(Duration.ofMinutes(2));
        drain();
        String shortLived = minter.mint("alice", Duration.ofSeconds(1), Map.of());
        advance(Duration.ofSeconds(2));
        drain();
        receive(new ClientMessage.AuthRefresh(shortLived));
        assertEquals(ErrorCode.AUTH_REFRESH_FAILED, ((ServerMessage.ErrorFrame) drain().get(0)).code());
        receive(new ClientMessage.AuthRefresh("not.a.token"));
        assertEquals(ErrorCode.AUTH_REFRESH_FAILED, ((ServerMessage.ErrorFrame) drain().get(0)).code());
    }

    @Test
    void theClaimsOfTheNewTokenApplyFromTheRefreshOn() {
        start(Duration.ofMinutes(10));
        drain();
        assertEquals("reader", connection.token().claims().get("role"));
        receive(new ClientMessage.AuthRefresh(minter.mint("alice", Duration.ofMinutes(10), Map.of("role", "admin"))));
        drain();
        assertEquals("admin", connection.token().claims().get("role"));
    }
}
