package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.ManualClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extend} (contract 1.2, 8.3) against real gateways whose clock is a {@link ManualClock}, so
 * every {@code ends_at} is known exactly: granted up to {@code limits.max_extensions}, refused beyond
 * it and to a viewer, kept across a resume, and carried to another node through the shared store
 * without the session's maximum duration starting again there.
 */
class ExtendIT {

    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final String EXTENSIONS = """
            limits:
              max_duration: 8h
              max_extensions: 2
              extension: 30m
            """;
    private static final long MAX_DURATION = Duration.ofHours(8).toSeconds();
    private static final long EXTENSION = Duration.ofMinutes(30).toSeconds();

    private static final ManualClock clock = new ManualClock(START);

    @RegisterExtension
    static final GatewayExtension gateway =
            GatewayExtension.withConfig(EXTENSIONS).withClock(clock);

    @TempDir
    static Path tmp;

    private static ServerMessage.Notice extend(SessionClient client) {
        client.send(new ClientMessage.Extend());
        return client.expect(ServerMessage.Notice.class);
    }

    /** Sends {@code extend} and reads up to the error it gets (past a resume's replay). */
    private static ServerMessage.ErrorFrame refused(TestClient client) {
        client.send(new ClientMessage.Extend());
        List<ServerMessage> upTo = client.until(m -> m instanceof ServerMessage.ErrorFrame);
        return (ServerMessage.ErrorFrame) upTo.get(upTo.size() - 1);
    }

    @Test
    void extensionsAreGrantedUpToTheAllowanceAndKeptAcrossAResumeAndAViewerMayNotExtend() {
        Instant created = clock.instant();
        String id;
        try (SessionClient owner = SessionClient.openIdle(gateway.uri(), dayLong(gateway.minter(), "ext-alice"))) {
            id = owner.sessionId();
            long endsAt = owner.ready.endsAt();
            assertEquals(created.getEpochSecond() + MAX_DURATION, endsAt);

            clock.set(created.plus(Duration.ofHours(7))); // ends_at counts from creation, not from now
            ServerMessage.Notice first = extend(owner);
            assertEquals("duration_extended", first.code());
            assertEquals(endsAt + EXTENSION, first.details().get("ends_at").asLong());
            assertEquals(1, first.details().get("extensions_left").asInt());

            try (TestClient viewer = TestClient.connectWithHeader(
                    URI.create(gateway.uri() + "?session=" + id + "&role=viewer&last_seq=0"),
                    dayLong(gateway.minter(), "ext-alice"))) {
                ServerMessage.SessionReady seen = viewer.expect(ServerMessage.SessionReady.class);
                assertEquals(Role.VIEWER, seen.role());
                assertEquals(endsAt + EXTENSION, seen.endsAt());
                viewer.until(m -> m instanceof ServerMessage.Sequenced s && s.seq() == first.seq());
                assertEquals(ErrorCode.READ_ONLY, refused(viewer).code());
            }

            assertEquals(
                    endsAt + 2 * EXTENSION,
                    extend(owner).details().get("ends_at").asLong());
            ServerMessage.ErrorFrame beyond = refused(owner.ws);
            assertEquals(ErrorCode.EXTENSION_REFUSED, beyond.code());
            assertTrue(beyond.message().contains("all 2"), beyond.message());
            assertTrue(owner.ws.isOpen(), "a refusal leaves the connection open");
        }
        try (SessionClient resumed = SessionClient.resume(gateway, "ext-alice", id, 0)) {
            assertEquals(created.getEpochSecond() + MAX_DURATION + 2 * EXTENSION, resumed.ready.endsAt());
            assertEquals(ErrorCode.EXTENSION_REFUSED, refused(resumed.ws).code(), "the count survives the resume");
        }
    }

    @Test
    void anExtensionTravelsWithASessionThatMovesToAnotherNode() throws Exception {
        // The store expires a session's keys by the creation time its node's clock gives: near now.
        Instant now = Instant.ofEpochSecond(Instant.now().getEpochSecond());
        ManualClock nodeClock = new ManualClock(now);
        try (RedisServer redis = RedisServer.start(tmp)) {
            GatewayServer a = new GatewayServer(RedisNodes.config("extend", "a", redis.uri(), EXTENSIONS), nodeClock);
            GatewayServer b = new GatewayServer(RedisNodes.config("extend", "b", redis.uri(), EXTENSIONS), nodeClock);
            try (a;
                    b) {
                URI onA = nodeUri(a);
                URI onB = nodeUri(b);
                String token = dayLong(
                        new TokenMinter(
                                GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", nodeClock),
                        "ext-bob");
                String id;
                long endsAt;
                try (SessionClient owner = SessionClient.openIdle(onA, token)) {
                    id = owner.sessionId();
                    endsAt = owner.ready.endsAt();
                    assertEquals(now.getEpochSecond() + MAX_DURATION, endsAt);
                    assertEquals(
                            endsAt + EXTENSION,
                            extend(owner).details().get("ends_at").asLong());
                }
                nodeClock.set(now.plus(Duration.ofMinutes(2))); // within first_message_timeout
                a.close(); // releases the session: b takes it over at once

                try (TestClient moved =
                        TestClient.connectWithHeader(URI.create(onB + "?session=" + id + "&last_seq=0"), token)) {
                    ServerMessage.SessionReady ready = moved.expect(ServerMessage.SessionReady.class);
                    assertTrue(ready.resumed());
                    assertEquals("b", ready.node());
                    assertEquals(
                            endsAt + EXTENSION,
                            ready.endsAt(),
                            "b counts from the creation on a, with the extension granted there");
                    moved.send(new ClientMessage.Extend());
                    List<ServerMessage> upTo = moved.until(m -> m instanceof ServerMessage.Notice n
                            && n.code().equals("duration_extended")
                            && n.seq() > ready.lastSeq()); // past a's, replayed
                    ServerMessage.Notice second = (ServerMessage.Notice) upTo.get(upTo.size() - 1);
                    assertEquals(
                            endsAt + 2 * EXTENSION,
                            second.details().get("ends_at").asLong());
                    assertEquals(ErrorCode.EXTENSION_REFUSED, refused(moved).code(), "a's grant counts on b");
                    moved.send(new ClientMessage.End());
                    assertEquals(CloseCode.NORMAL.code(), moved.awaitCloseCode());
                }
            }
        }
    }

    private static URI nodeUri(GatewayServer server) throws InterruptedException {
        return URI.create("ws://127.0.0.1:" + server.start().getPort() + "/ws");
    }

    /** A token valid for a day of the minter's clock: the tests move their clocks by hours. */
    private static String dayLong(TokenMinter minter, String subject) {
        return minter.mint(subject, Duration.ofDays(1), Map.of());
    }
}
