package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.Nginx;
import dev.tether.gateway.testing.SeqAudit;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The deployment config of {@code docs/deploy/nginx.conf} (the one {@code docs/deployment.md}
 * shows), run by a real nginx in front of a real gateway: a session, an idle stretch longer than
 * nginx's {@code proxy_read_timeout} that the gateway's heartbeats carry the connection through, a
 * second round trip on the same connection, and a resume with replay, all through nginx.
 */
class NginxIT {

    /** nginx's proxy_read_timeout in these tests. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);
    /** Idle stretch: well beyond the read timeout. */
    private static final Duration IDLE = Duration.ofSeconds(3);
    /** A turn of the echo worker from idle: processing, 3 deltas, result, idle. */
    private static final int TURN = 6;

    /** Pings every 500 ms: four times within nginx's read timeout. */
    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            heartbeat:
              interval: 500ms
              timeout: 5s
            """);

    /** Heartbeats slower than nginx's read timeout: the control, where nginx cuts idle connections. */
    @RegisterExtension
    static final GatewayExtension slowHeartbeat = GatewayExtension.withConfig("""
            heartbeat:
              interval: 30s
              timeout: 60s
            """);

    /** Two nodes behind one nginx, each with its node id. */
    @RegisterExtension
    static final GatewayExtension nodeA = GatewayExtension.withConfig("""
            server:
              node_id: a
            """);

    @RegisterExtension
    static final GatewayExtension nodeB = GatewayExtension.withConfig("""
            server:
              node_id: b
            """);

    /** New sessions through nginx in the two-node test, at most, until each node holds enough. */
    private static final int MAX_NEW_SESSIONS = 32;
    /** Sessions each node must hold before the resumes start. */
    private static final int PER_NODE = 3;

    @TempDir
    Path dir;

    @Test
    void aSessionOutlivesTheProxyReadTimeoutAndResumesThroughNginx() throws Exception {
        String token = gateway.token("user-" + UUID.randomUUID());
        try (Nginx nginx = Nginx.start(dir, gateway.address(), READ_TIMEOUT)) {
            String id;
            try (TestClient client = TestClient.connect(nginx.via(gateway.uri()), token)) {
                ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
                assertFalse(ready.resumed());
                id = ready.sessionId();

                client.send(message("m1", "before the idle stretch"));
                SeqAudit.assertRange("first turn", SeqAudit.seqs(turn(client, "m1")), 1, TURN);

                long idleUntil = System.nanoTime() + IDLE.toNanos();
                while (System.nanoTime() - idleUntil < 0) {
                    ServerMessage unexpected = client.poll(Duration.ofMillis(100));
                    assertNull(unexpected, "nothing but pings while idle");
                    assertTrue(
                            client.isOpen(),
                            "closed while idle: nginx's read timeout was not held off\n" + nginx.output());
                }

                client.send(message("m2", "after the idle stretch"));
                SeqAudit.assertRange(
                        "second turn, same connection", SeqAudit.seqs(turn(client, "m2")), TURN + 1, 2 * TURN);
            }

            try (TestClient resumed = TestClient.connect(nginx.via(gateway.resumeUri(id, TURN)), token)) {
                ServerMessage.SessionReady ready = resumed.expect(ServerMessage.SessionReady.class);
                assertTrue(ready.resumed());
                assertEquals(id, ready.sessionId());
                assertEquals(2 * TURN, ready.lastSeq());
                resumed.send(new ClientMessage.Ping());
                List<ServerMessage> replay = resumed.until(ServerMessage.Pong.class::isInstance);
                SeqAudit.assertRange("replay after last_seq " + TURN, SeqAudit.seqs(replay), TURN + 1, 2 * TURN);
            }
            // nginx writes an access-log line when a connection has closed: wait for the second.
            Path accessLog = dir.resolve("logs/access.log");
            String log = Poll.until(
                    "two upgrades in nginx's access log", () -> read(accessLog), text -> upgrades(text) >= 2);
            assertEquals(2, upgrades(log), log);
            assertFalse(log.contains(id), "the access log leaves out the query string");
        }
    }

    /** Without heartbeats inside its read timeout, nginx closes an idle WebSocket: the test above is not vacuous. */
    @Test
    void withoutTimelyHeartbeatsNginxClosesTheIdleConnection() throws Exception {
        try (Nginx nginx = Nginx.start(dir, slowHeartbeat.address(), READ_TIMEOUT);
                TestClient client = TestClient.connect(
                        nginx.via(slowHeartbeat.uri()), slowHeartbeat.token("user-" + UUID.randomUUID()))) {
            client.expect(ServerMessage.SessionReady.class);
            long start = System.nanoTime();
            Poll.until("nginx closes the idle connection", Duration.ofSeconds(10), () -> !client.isOpen());
            long waited = System.nanoTime() - start;
            assertTrue(
                    waited >= READ_TIMEOUT.toNanos() / 2,
                    "closed after " + waited / 1_000_000 + " ms, before the read timeout");
        }
    }

    @Test
    void onlyTheWebSocketPathIsPublic() throws Exception {
        try (Nginx nginx = Nginx.start(dir, gateway.address(), READ_TIMEOUT)) {
            for (String path : List.of("/metrics", "/healthz", "/readyz", "/admin/sessions")) {
                HttpURLConnection http = (HttpURLConnection) URI.create("http://127.0.0.1:" + nginx.port() + path)
                        .toURL()
                        .openConnection();
                try {
                    assertEquals(404, http.getResponseCode(), path);
                } finally {
                    http.disconnect();
                }
            }
        }
    }

    /**
     * Two gateways behind one nginx: new sessions spread over both (by nginx's random key), and the
     * resume of each, routed by the node id in front of its session id, reaches the node that holds
     * it and replays what came after its {@code last_seq}.
     */
    @Test
    void resumesReachTheNodeThatHoldsTheSession() throws Exception {
        record Opened(String id, String token, GatewayExtension node) {}
        int beforeA = nodeA.server().registry().size();
        int beforeB = nodeB.server().registry().size();
        try (Nginx nginx = Nginx.start(dir, twoNodes(), READ_TIMEOUT)) {
            List<Opened> opened = new ArrayList<>();
            int onA = 0;
            int onB = 0;
            while ((onA < PER_NODE || onB < PER_NODE) && opened.size() < MAX_NEW_SESSIONS) {
                String token = nodeA.token("user-" + UUID.randomUUID());
                try (TestClient client = TestClient.connect(nginx.via(nodeA.uri()), token)) {
                    ServerMessage.SessionReady ready = client.expect(ServerMessage.SessionReady.class);
                    assertFalse(ready.resumed());
                    String id = ready.sessionId();
                    assertTrue(id.matches("[ab]\\.[A-Za-z0-9_-]{22}"), id);
                    client.send(message("m1", "first turn of " + id));
                    SeqAudit.assertRange("first turn of " + id, SeqAudit.seqs(turn(client, "m1")), 1, TURN);
                    GatewayExtension node = id.startsWith("a.") ? nodeA : nodeB;
                    if (node == nodeA) {
                        onA++;
                    } else {
                        onB++;
                    }
                    opened.add(new Opened(id, token, node));
                }
            }
            assertTrue(
                    onA >= PER_NODE && onB >= PER_NODE,
                    "new sessions spread over both nodes: " + onA + " on a, " + onB + " on b");
            // Each node holds the sessions whose ids name it, and no others.
            assertEquals(onA, nodeA.server().registry().size() - beforeA, "sessions on a");
            assertEquals(onB, nodeB.server().registry().size() - beforeB, "sessions on b");

            for (Opened session : opened) {
                URI resume = nginx.via(session.node().resumeUri(session.id(), TURN / 2));
                try (TestClient resumed = TestClient.connect(resume, session.token())) {
                    ServerMessage first = resumed.next();
                    ServerMessage.SessionReady ready = assertInstanceOf(
                            ServerMessage.SessionReady.class, first, "resume of " + session.id() + " reached its node");
                    assertTrue(ready.resumed(), session.id());
                    assertEquals(session.id(), ready.sessionId());
                    assertEquals(TURN, ready.lastSeq());
                    resumed.send(new ClientMessage.Ping());
                    List<ServerMessage> replay = resumed.until(ServerMessage.Pong.class::isInstance);
                    SeqAudit.assertRange(
                            "replay of " + session.id() + " after last_seq " + TURN / 2,
                            SeqAudit.seqs(replay),
                            TURN / 2 + 1,
                            TURN);
                }
            }
            assertEquals(onA, nodeA.server().registry().size() - beforeA, "resumes create no sessions on a");
            assertEquals(onB, nodeB.server().registry().size() - beforeB, "resumes create no sessions on b");
        }
    }

    /**
     * A resume naming a node that is not in nginx's map (a node taken out) goes to the pool, where
     * no node holds it: session_not_found, and the client starts a new session.
     */
    @Test
    void aResumeNamingAnUnlistedNodeGoesToThePoolAndIsNotFound() throws Exception {
        try (Nginx nginx = Nginx.start(dir, twoNodes(), READ_TIMEOUT);
                TestClient client = TestClient.connect(
                        nginx.via(nodeA.resumeUri("gone." + "A".repeat(22), 0)),
                        nodeA.token("user-" + UUID.randomUUID()))) {
            ServerMessage.ErrorFrame error = assertInstanceOf(ServerMessage.ErrorFrame.class, client.next());
            assertEquals(ErrorCode.SESSION_NOT_FOUND, error.code());
            assertEquals(
                    CloseCode.SESSION_NOT_FOUND.code(),
                    client.awaitClose().getCloseCode().getCode());
        }
    }

    private static List<Nginx.Node> twoNodes() {
        return List.of(new Nginx.Node("a", nodeA.address()), new Nginx.Node("b", nodeB.address()));
    }

    /** Messages up to the end of the turn of {@code id}: its result, then status idle. */
    private static List<ServerMessage> turn(TestClient client, String id) {
        List<ServerMessage> messages = new ArrayList<>(client.until(m -> m instanceof ServerMessage.Event e
                && "result".equals(e.event().path("type").asText())
                && id.equals(e.event().path("id").asText())));
        messages.addAll(client.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE));
        return messages;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** How many WebSocket upgrades an nginx access log records. */
    private static long upgrades(String accessLog) {
        return accessLog
                .lines()
                .filter(line -> line.contains("\"GET /ws\" 101"))
                .count();
    }

    private static ClientMessage.Message message(String id, String text) {
        return new ClientMessage.Message(id, TextNode.valueOf(text));
    }
}
