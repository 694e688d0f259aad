package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.HandOvers;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RedisCluster;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisSentinelGroup;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared session store on the Redis deployments that docs/deployment.md describes, end to end:
 * gateway nodes in this JVM, real demo workers and WebSocket clients, against a real three-primary
 * Redis Cluster ({@code redis-cluster://}) and a real Sentinel set-up ({@code redis-sentinel://},
 * one primary, one replica, one sentinel) through a failover.
 */
class RedisDeploymentsIT {

    private static final String MARKER = "redis-deployments";

    @TempDir
    Path tmp;

    private final List<AutoCloseable> closing = new ArrayList<>();
    private final Map<GatewayServer, InetSocketAddress> addresses = new HashMap<>();

    @AfterEach
    void stop() throws Exception {
        // Gateways first (they were started last), then Redis.
        for (int i = closing.size() - 1; i >= 0; i--) {
            closing.get(i).close();
        }
    }

    @Test
    void overARedisClusterASessionIsHandedToAnotherNodeAfterItsRunningTurn() throws Exception {
        RedisCluster cluster = RedisCluster.start(tmp);
        closing.add(cluster);
        GatewayServer a = node("a", cluster.uri());
        GatewayServer b = node("b", cluster.oneSeedUri());
        // b asks a, over the cluster's pub/sub, to hand the session over.
        HandOvers.afterTheRunningTurn(uri(a), token("bob"), id -> resumeUri(b, id, 0), token("bob"));
        assertTrue(a.registry().all().isEmpty(), "a let the session go");
    }

    @Test
    void overARedisClusterAStoppedNodesSessionGoesOnElsewhereAndUserCountsSpanNodes() throws Exception {
        RedisCluster cluster = RedisCluster.start(tmp);
        closing.add(cluster);
        GatewayServer a = node("a", cluster.uri());
        GatewayServer b = node("b", cluster.uri());
        String id;
        long newest;
        try (SessionClient c = SessionClient.openIdle(uri(a), token("carol"))) {
            id = c.sessionId();
            c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
            newest = c.lastSeq();
        }
        try (SessionClient second = SessionClient.open(uri(b), token("carol"))) {
            RawHttp.Response third =
                    RawHttp.upgrade(addresses.get(b), "/ws", Map.of("Authorization", "Bearer " + token("carol")));
            assertEquals(
                    429,
                    third.status(),
                    "max_sessions_per_user: 2 counts the sessions on a and b, whatever slots they are in");
        }
        a.close(); // releases its sessions
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("carol"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE && s.seq() > newest);
            ws.send(new ClientMessage.Message("t2", JsonNodeFactory.instance.textNode("two")));
            List<ServerMessage> second =
                    ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            assertEquals(2, SessionClient.event(second, "result").path("turn").asInt());
            ws.send(new ClientMessage.Message("t1", JsonNodeFactory.instance.textNode("again")));
            assertTrue(ws.expect(ServerMessage.Accepted.class).duplicate(), "an id taken on a is a duplicate on b");
        }
    }

    @Test
    void throughSentinelANodeKeepsWorkingAcrossAFailover() throws Exception {
        RedisSentinelGroup sentinel = RedisSentinelGroup.start(tmp);
        closing.add(sentinel);
        int firstPrimary = sentinel.primaryPort();
        GatewayServer a = node("a", sentinel.uri());
        String id;
        long newest;
        try (SessionClient c = SessionClient.openIdle(uri(a), token("dave"))) {
            id = c.sessionId();
            c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
            newest = c.lastSeq();
        }

        sentinel.failover();
        assertFalse(sentinel.primaryPort() == firstPrimary, "the replica is the primary now");

        // The store's connections were dropped by the failover and come back to the new primary;
        // a new session is refused until they have (the store does not answer), then created.
        try (SessionClient fresh = SessionClient.openIdle(uri(a), token("erin"))) {
            fresh.roundTrip("f1", "{\"text\":\"fresh\",\"deltas\":1,\"delay_ms\":0}");
        }
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(a, id, 0), token("dave"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(id, ready.sessionId());
            ws.until(m -> m instanceof ServerMessage.Status s
                    && s.state() == SessionState.IDLE
                    && s.seq() >= newest); // replayed: the session never left a
            ws.send(new ClientMessage.Message("t2", JsonNodeFactory.instance.textNode("two")));
            List<ServerMessage> second =
                    ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            assertEquals(2, SessionClient.event(second, "result").path("turn").asInt());
        }
    }

    // ---- helpers ----

    private GatewayServer node(String id, String redisUri) throws InterruptedException {
        GatewayConfig config = RedisNodes.config(MARKER, id, redisUri);
        GatewayServer server = new GatewayServer(config, Clock.systemUTC());
        closing.add(server);
        addresses.put(server, server.start());
        return server;
    }

    private URI uri(GatewayServer server) {
        return URI.create("ws://127.0.0.1:" + addresses.get(server).getPort() + "/ws");
    }

    private URI resumeUri(GatewayServer server, String id, long lastSeq) {
        return URI.create(uri(server) + "?session=" + id + "&last_seq=" + lastSeq);
    }

    private static String token(String subject) {
        return new TokenMinter(GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofHours(1), Map.of());
    }
}
