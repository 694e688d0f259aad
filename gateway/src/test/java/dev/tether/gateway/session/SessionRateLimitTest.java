package dev.tether.gateway.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.auth.VerifiedToken;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The session's message rate limit, driven deterministically: the session runs on an
 * EmbeddedChannel's loop, its rate is measured with a ticker the test advances, and the worker is
 * the in-process echo.
 */
class SessionRateLimitTest {

    private static final WireCodec CODEC = new WireCodec();
    private static final long TOKEN_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final String CONFIG = """
            abuse:
              messages_per_second: 10
              message_burst: 3
              max_strikes: 3
              strike_window: 10s
            """;

    private final AtomicLong now = new AtomicLong(1_000);
    private final EmbeddedChannel channel = new EmbeddedChannel();
    private final List<EmbeddedChannel> others = new ArrayList<>();
    private SessionRegistry registry;
    private Session session;
    private Connection connection;

    @BeforeEach
    void start() throws Exception {
        channel.freezeTime();
        GatewayConfig config = ConfigLoader.parse(CONFIG, Map.of());
        byte[] secret = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        TokenVerifier verifier =
                new TokenVerifier(Set.of("HS256"), secret, List.of(), null, null, Duration.ZERO, Clock.systemUTC());
        registry = new SessionRegistry(
                config,
                CODEC,
                verifier,
                new EchoWorkerSource(1, Duration.ZERO),
                now::get,
                Clock.systemUTC(),
                GatewayMetrics.NONE,
                SessionStore.MEMORY);
        assertEquals(SessionRegistry.Admission.ADMITTED, registry.admit("alice"));
        session =
                registry.create("alice", channel.eventLoop(), registry.workers().acquire());
        connection = connect(channel);
        session.attach(connection, 0, false);
        assertInstanceOf(ServerMessage.SessionReady.class, drain(channel).get(0));
    }

    @AfterEach
    void finish() {
        drain(channel);
        channel.finishAndReleaseAll();
        others.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private static Connection connect(EmbeddedChannel ch) {
        return new Connection(ch, new VerifiedToken("alice", Instant.now().plusSeconds(3600), Map.of()));
    }

    /** Everything sent on {@code ch} since the last call, decoded; a close frame becomes {@link Closed}. */
    private List<Object> drain(EmbeddedChannel ch) {
        channel.runPendingTasks();
        List<Object> out = new ArrayList<>();
        Object message;
        while ((message = ch.readOutbound()) != null) {
            if (message instanceof EncodedFrame frame) {
                out.add(CODEC.decodeServer(new String(frame.json(), StandardCharsets.UTF_8)));
            } else if (message instanceof CloseWebSocketFrame close) {
                out.add(new Closed(close.statusCode()));
                ReferenceCountUtil.release(close);
            } else if (message instanceof ServerMessage server) {
                out.add(server);
            } else {
                ReferenceCountUtil.release(message);
            }
        }
        return out;
    }

    private record Closed(int code) {}

    private void ping(Connection on) {
        session.receive(on, new ClientMessage.Ping());
    }

    private static ServerMessage.ErrorFrame rateLimited(Object sent) {
        ServerMessage.ErrorFrame error = assertInstanceOf(ServerMessage.ErrorFrame.class, sent);
        assertEquals(ErrorCode.RATE_LIMITED, error.code());
        return error;
    }

    @Test
    void framesBeyondTheBurstAreRateLimitedAndIgnored() {
        ping(connection);
        ping(connection);
        ping(connection);
        session.receive(connection, new ClientMessage.Message("m1", TextNode.valueOf("hi")));
        session.reject(connection, ErrorCode.INVALID_JSON, "not json");
        List<Object> sent = drain(channel);
        assertEquals(5, sent.size(), sent.toString());
        for (int i = 0; i < 3; i++) {
            assertInstanceOf(ServerMessage.Pong.class, sent.get(i));
        }
        assertEquals("m1", rateLimited(sent.get(3)).id(), "a refused message is named by its id");
        assertNull(rateLimited(sent.get(4)).id(), "an undecodable frame counts too, and gets rate_limited instead");
        assertTrue(channel.isOpen());

        now.addAndGet(TOKEN_NANOS);
        session.receive(connection, new ClientMessage.Message("m1", TextNode.valueOf("hi")));
        List<Object> later = drain(channel);
        ServerMessage.Accepted accepted = assertInstanceOf(ServerMessage.Accepted.class, later.get(0));
        assertFalse(accepted.duplicate(), "the refused message was not taken, so resending it is not a duplicate");
    }

    @Test
    void tooLargeRefusalsCarryTheIdAndCostAToken() {
        session.reject(connection, ErrorCode.MESSAGE_TOO_LARGE, "too big", "m7");
        ServerMessage.ErrorFrame error =
                assertInstanceOf(ServerMessage.ErrorFrame.class, drain(channel).get(0));
        assertEquals(ErrorCode.MESSAGE_TOO_LARGE, error.code());
        assertEquals("m7", error.id());
        ping(connection);
        ping(connection);
        session.reject(connection, ErrorCode.MESSAGE_TOO_LARGE, "too big", "m8");
        List<Object> sent = drain(channel);
        assertEquals("m8", rateLimited(sent.get(2)).id());
    }

    @Test
    void theMaxStrikesThStrikeClosesWith4008AndTheSessionCanBeResumed() {
        for (int i = 0; i < 5; i++) {
            ping(connection);
        }
        List<Object> sent = drain(channel);
        assertEquals(5, sent.size(), sent.toString());
        rateLimited(sent.get(3));
        rateLimited(sent.get(4));
        assertTrue(channel.isOpen(), "two strikes: still open");

        ping(connection);
        sent = drain(channel);
        rateLimited(sent.get(0));
        assertEquals(new Closed(4008), sent.get(1));
        assertEquals(2, sent.size());
        assertFalse(channel.isOpen());

        ping(connection);
        assertTrue(drain(channel).isEmpty(), "nothing more on a closing connection");

        // The pipeline reports the closed connection; the session goes on detached.
        session.detach(connection);
        channel.runPendingTasks();
        assertEquals(1, registry.size());
        EmbeddedChannel second = new EmbeddedChannel();
        others.add(second);
        Connection resumed = connect(second);
        session.attach(resumed, 0, true);
        ServerMessage.SessionReady ready =
                assertInstanceOf(ServerMessage.SessionReady.class, drain(second).get(0));
        assertTrue(ready.resumed());

        ping(resumed);
        rateLimited(drain(second).get(0));
        assertTrue(second.isOpen(), "a resume does not refill the bucket, but the close settled the strikes");
        now.addAndGet(TOKEN_NANOS);
        ping(resumed);
        assertInstanceOf(ServerMessage.Pong.class, drain(second).get(0));
    }

    @Test
    void strikesOfAnEndedWindowAreForgotten() {
        for (int i = 0; i < 5; i++) {
            ping(connection);
        }
        drain(channel);
        now.addAndGet(TimeUnit.SECONDS.toNanos(11));
        for (int i = 0; i < 5; i++) {
            ping(connection);
        }
        List<Object> sent = drain(channel);
        assertEquals(5, sent.size(), sent.toString());
        assertTrue(channel.isOpen(), "2 + 2 strikes in two windows: no close");
    }
}
