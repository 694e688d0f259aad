package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.notice;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.store.RedisSessionStore;
import dev.tether.gateway.store.StoredSession;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.HandOvers;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.Nginx;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.testing.TestClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.RequestOutcome;
import dev.tether.protocol.Role;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Sessions in the shared store ({@code sessions.store: redis}, contract 7.1) end to end: gateway
 * nodes started in this JVM against one real {@code redis-server}, real demo-worker subprocesses,
 * and WebSocket clients. A session moves to another node when its node stops (it is released) or
 * while it lives (it is handed over after its running turn); it carries its history, its message
 * ids, its queued messages and its worker checkpoint (the demo worker's turn count goes on).
 */
class SharedStoreIT {

    private static final String MARKER = "shared-store";

    @TempDir
    static Path tmp;

    private static RedisServer redis;
    private final List<GatewayServer> nodes = new ArrayList<>();
    private final Map<GatewayServer, InetSocketAddress> addresses = new HashMap<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisServer.start(tmp);
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @AfterEach
    void stopNodes() {
        nodes.forEach(GatewayServer::close);
    }

    /** Each test starts from an empty store (its nodes reuse the node ids of other tests). */
    @BeforeEach
    void emptyStore() {
        try (RedisClient client = RedisClient.create(redis.uri());
                StatefulRedisConnection<String, String> connection = client.connect()) {
            connection.sync().flushall();
        }
    }

    private GatewayServer node(String id) throws InterruptedException {
        GatewayConfig config = RedisNodes.config(MARKER, id, redis.uri());
        GatewayServer server = new GatewayServer(config, Clock.systemUTC());
        nodes.add(server);
        addresses.put(server, server.start());
        return server;
    }

    @Test
    void aSessionGoesOnOnAnotherNodeWhenItsNodeStops() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        List<ServerMessage> onA = new ArrayList<>();
        try (SessionClient c = SessionClient.openIdle(uri(a), token("alice"))) {
            id = c.sessionId();
            onA.addAll(c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}"));
            onA.addAll(c.roundTrip("t2", "{\"text\":\"two\",\"deltas\":1,\"delay_ms\":0}"));
            assertEquals(
                    List.of(1, 2),
                    onA.stream()
                            .filter(m -> m instanceof ServerMessage.Event e
                                    && "result".equals(e.event().path("type").asText()))
                            .map(m -> ((ServerMessage.Event) m)
                                    .event()
                                    .path("turn")
                                    .asInt())
                            .toList());
        }
        long newestOnA = seqs(onA).get(seqs(onA).size() - 1);
        a.close(); // releases its sessions: b takes them over at once

        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("alice"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertEquals(id, ready.sessionId());
            List<ServerMessage> replay = ws.until(
                    m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE && s.seq() > newestOnA);
            List<Long> seqs = seqs(replay);
            assertEquals(1L, seqs.get(0), "the whole history, from seq 1: " + seqs);
            for (int i = 1; i < seqs.size(); i++) {
                assertEquals(seqs.get(i - 1) + 1, seqs.get(i), "consecutive seqs, none reused: " + seqs);
            }
            long firstOnA = seqs(onA).get(0);
            assertEquals(
                    tagsBetween(onA, firstOnA, newestOnA),
                    tagsBetween(replay, firstOnA, newestOnA),
                    "b replays exactly what a sent");
            ServerMessage.Notice moved = notice(replay, "session_moved");
            assertEquals(
                    "(released)",
                    moved.details().path("from_node").asText(),
                    moved.details().toString());
            assertFalse(moved.details().has("turn_id"), "no turn was running");

            ws.send(new ClientMessage.Message("t3", JsonNodeFactory.instance.textNode("three")));
            List<ServerMessage> third =
                    ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            assertEquals(
                    3,
                    SessionClient.event(third, "result").path("turn").asInt(),
                    "the worker went on from the checkpoint");

            ws.send(new ClientMessage.Message("t1", JsonNodeFactory.instance.textNode("again")));
            ServerMessage.Accepted again = ws.expect(ServerMessage.Accepted.class);
            assertTrue(again.duplicate(), "an id taken on a is a duplicate on b");
        }
    }

    @Test
    void aResumeOnAnotherNodeIsHandedOverAfterTheRunningTurn() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        // What a tells b on b's channel: that it released the session, so b claims it without waiting.
        try (Overheard toB = new Overheard(redis.uri(), "b")) {
            handedOverAfterTheRunningTurn(a, b);
            assertTrue(
                    toB.messages.stream().anyMatch(m -> m.startsWith("released ")),
                    "a told b it released the session: " + toB.messages);
        }
    }

    private void handedOverAfterTheRunningTurn(GatewayServer a, GatewayServer b) throws Exception {
        HandOvers.afterTheRunningTurn(uri(a), token("bob"), id -> resumeUri(b, id, 0), token("bob"));
        assertTrue(a.registry().all().isEmpty(), "a let the session go");
        assertTrue(scrape(a).contains("tether_sessions_left_total{reason=\"handoff\"} 1.0"), "a counts the hand-off");
        assertTrue(
                scrape(b).contains("tether_session_takeovers_seconds_count{outcome=\"adopted\"} 1"),
                "b times its take-over");
    }

    @Test
    void anEndedSessionIsExpiredOnEveryNodeAndAnUnknownOneIsNotFound() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        try (SessionClient c = SessionClient.openIdle(uri(a), token("carol"))) {
            id = c.sessionId();
            c.send(new ClientMessage.End());
            c.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.ENDED);
        }
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("carol"))) {
            ServerMessage.ErrorFrame error = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.SESSION_EXPIRED, error.code());
            assertEquals(4004, ws.awaitCloseCode());
        }
        for (String subject : List.of("mallory", "carol")) {
            String target = subject.equals("mallory") ? id : "b.AAAAAAAAAAAAAAAAAAAAAA";
            try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, target, 0), token(subject))) {
                assertEquals(
                        ErrorCode.SESSION_NOT_FOUND,
                        ws.expect(ServerMessage.ErrorFrame.class).code());
                assertEquals(4004, ws.awaitCloseCode());
            }
        }
    }

    @Test
    void sessionsNobodyResumedStopCountingOnceTheirReconnectWindowHasPassedSinceTheirNodeWasLastSeen()
            throws Exception {
        GatewayServer b = node("b"); // max_sessions_per_user: 2, reconnect_window: 5m
        String old = "ghost.AAAAAAAAAAAAAAAAAAAAAA";
        String recent = "ghost.BBBBBBBBBBBBBBBBBBBBBB";
        long now = System.currentTimeMillis();
        try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            // Node "ghost" died (it has no lease): one session last seen 10 minutes ago, one just now.
            assertTrue(store.create(old, "ivan", "ghost", now - 600_000, 0, now + 3_600_000)
                    .toCompletableFuture()
                    .get());
            assertTrue(store.admit("ivan", old, 2, now - 600_000)
                    .toCompletableFuture()
                    .get());
            assertTrue(store.create(recent, "ivan", "ghost", now, 0, now + 3_600_000)
                    .toCompletableFuture()
                    .get());
            assertTrue(store.admit("ivan", recent, 2, now).toCompletableFuture().get());
        }
        try (SessionClient fresh = SessionClient.open(uri(b), token("ivan"))) {
            assertFalse(
                    fresh.sessionId().equals(old), "admitted: the session abandoned 10 minutes ago no longer counts");
            RawHttp.Response third =
                    RawHttp.upgrade(address(b), "/ws", Map.of("Authorization", "Bearer " + token("ivan")));
            assertEquals(429, third.status(), "the session last seen just now still counts: its client may resume it");
        }
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, old, 0), token("ivan"))) {
            ServerMessage.ErrorFrame expired = ws.expect(ServerMessage.ErrorFrame.class);
            assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
            assertEquals("reconnect_window_expired", expired.reason(), "ended as a live node would have ended it");
        }
    }

    /**
     * A session that starts idle on a warm worker (it never says {@code status preparing}) stores
     * {@code idle}, not the {@code preparing} it was registered with; and its turns store theirs.
     */
    @Test
    void aSessionThatStartsIdleOnAWarmWorkerStoresItsState() throws Exception {
        GatewayServer a = node("a");
        var pool = a.pool().orElseThrow();
        Poll.until("a warm worker", pool::status, status -> status.warm() > 0);
        try (SessionClient c = SessionClient.open(uri(a), token("wendy"));
                RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            assertEquals(SessionState.IDLE, c.ready().state(), "served by a warm worker");
            Poll.until("the stored state is idle", () -> storedState(store, c.sessionId()), "idle"::equals);
            c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
            Poll.until(
                    "the stored state is idle after the turn", () -> storedState(store, c.sessionId()), "idle"::equals);
        }
    }

    private static String storedState(RedisSessionStore store, String id) {
        try {
            return store.read(id).toCompletableFuture().get().orElseThrow().state();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void sessionsPerUserCountOnEveryNode() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        try (SessionClient one = SessionClient.open(uri(a), token("dave"));
                SessionClient two = SessionClient.open(uri(b), token("dave"))) {
            RawHttp.Response third =
                    RawHttp.upgrade(address(a), "/ws", Map.of("Authorization", "Bearer " + token("dave")));
            assertEquals(429, third.status(), third.body());
            assertTrue(third.body().contains("too_many_connections"), third.body());
        }
    }

    @ParameterizedTest(name = "write_mode {0}")
    @ValueSource(strings = {"before_send", "batched"})
    void aSessionOfANodeKilledMidTurnGoesOnElsewhereOnceItsLeaseRunsOut(String writeMode) throws Exception {
        String id;
        long seen;
        try (GatewayProcess dead = nodeProcess("dead", writeMode)) {
            URI onDead = URI.create("ws://127.0.0.1:" + dead.awaitListening() + "/ws");
            String token = new TokenMinter(
                            GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                    .mint("erin", Duration.ofHours(1), Map.of());
            try (TestClient ws = TestClient.connectWithHeader(onDead, token)) {
                ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
                id = ready.sessionId();
                ws.send(new ClientMessage.Message("m1", JsonNodeFactory.instance.textNode("a long answer")));
                List<ServerMessage> upToDelta = ws.until(m -> m instanceof ServerMessage.Event);
                seen = seqs(upToDelta).get(seqs(upToDelta).size() - 1);
                dead.signal("KILL");
                dead.awaitExit();
            }
        }
        GatewayServer b = node("b");
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, seen), token("erin"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertTrue(ready.resumed());
            assertTrue(ready.lastSeq() >= seen, "no seq the client saw is reused: " + ready.lastSeq() + " < " + seen);
            List<ServerMessage> after =
                    ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            ServerMessage.Notice moved = notice(after, "session_moved");
            assertEquals("dead", moved.details().path("from_node").asText());
            assertEquals("m1", moved.details().path("turn_id").asText(), "the turn that died with the node is named");
            List<Long> seqs = seqs(after);
            assertTrue(seqs.get(0) > seen, "history goes on above what the client saw: " + seqs);
            // Every seq between what the client saw and where b goes on is replayed or named in a replay_gap.
            Set<Long> accounted = new HashSet<>(seqs);
            for (ServerMessage m : after) {
                if (m instanceof ServerMessage.ReplayGap gap) {
                    for (long seq = gap.from(); seq <= gap.to(); seq++) {
                        accounted.add(seq);
                    }
                }
            }
            for (long seq = seen + 1; seq <= ready.lastSeq(); seq++) {
                assertTrue(
                        accounted.contains(seq),
                        "seq " + seq + " is neither replayed nor reported lost: " + SessionClient.tags(after));
            }
            if (writeMode.equals("batched")) {
                assertTrue(
                        after.stream().anyMatch(m -> m instanceof ServerMessage.ReplayGap),
                        "batched: what the dead node may have sent unstored is a replay_gap");
            } else {
                assertTrue(
                        after.stream().noneMatch(m -> m instanceof ServerMessage.ReplayGap),
                        "before_send: nothing the client was sent is missing from the store");
            }
            ws.send(new ClientMessage.Message("m1", JsonNodeFactory.instance.textNode("again")));
            assertTrue(ws.expect(ServerMessage.Accepted.class).duplicate(), "m1 was taken on the dead node");
        }
    }

    @Test
    void behindNginxADrainedNodesSessionsGoOnElsewhereAndTheirNextResumesGoStraightThere() throws Exception {
        List<GatewayServer> three = List.of(node("a"), node("b"), node("c"));
        List<Nginx.Node> behind = three.stream()
                .map(n -> new Nginx.Node(n.config().server().nodeId(), address(n)))
                .toList();
        try (Nginx nginx =
                Nginx.start(tmp.resolve("nginx-" + System.nanoTime()), behind, Duration.ofSeconds(60), true)) {
            URI entry = URI.create("ws://127.0.0.1:" + nginx.port() + "/ws");
            // Sessions until node a has two of them, each after one turn.
            record Open(TestClient ws, String id, String subject, SessionState state) {}
            List<Open> onA = new ArrayList<>();
            List<TestClient> others = new ArrayList<>();
            for (int i = 0; onA.size() < 2; i++) {
                assertTrue(i < 60, "new sessions through nginx never reached node a");
                String subject = "user-" + i;
                TestClient ws = TestClient.connectWithHeader(entry, token(subject));
                ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
                assertEquals(
                        ready.sessionId().substring(0, ready.sessionId().indexOf('.')),
                        ready.node(),
                        "a new session is served by the node its id names");
                if ("a".equals(ready.node())) {
                    onA.add(new Open(ws, ready.sessionId(), subject, ready.state()));
                } else {
                    others.add(ws);
                }
            }
            // A slow turn runs on each of a's sessions when a is drained: it finishes, then a lets go.
            for (Open open : onA) {
                if (open.state() != SessionState.IDLE) {
                    open.ws().until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
                }
                open.ws()
                        .send(new ClientMessage.Message(
                                "slow",
                                JsonNodeFactory.instance
                                        .objectNode()
                                        .put("text", "abcd")
                                        .put("deltas", 4)
                                        .put("delay_ms", 100)));
                open.ws().until(m -> m instanceof ServerMessage.Event);
            }
            three.get(0).drain("test");
            for (Open open : onA) {
                List<ServerMessage> beforeClose = new ArrayList<>();
                while (open.ws().isOpen() || !open.ws().inboxEmpty()) {
                    ServerMessage m = open.ws().poll(Duration.ofSeconds(10));
                    if (m == null) {
                        break;
                    }
                    beforeClose.add(m);
                }
                assertEquals(1001, open.ws().awaitCloseCode(), "a drained node's clients are sent elsewhere");
                long last = seqs(beforeClose).isEmpty()
                        ? 0
                        : seqs(beforeClose).get(seqs(beforeClose).size() - 1);
                boolean sawResult = SessionClient.tags(beforeClose).contains("event:result:slow");

                URI resume = URI.create(entry + "?session=" + open.id() + "&last_seq=" + last + "&node=a");
                String movedTo;
                try (TestClient again = TestClient.connectWithHeader(resume, token(open.subject()))) {
                    ServerMessage.SessionReady ready = again.expect(ServerMessage.SessionReady.class);
                    assertTrue(ready.resumed());
                    movedTo = ready.node();
                    assertTrue("b".equals(movedTo) || "c".equals(movedTo), "taken over by a live node: " + movedTo);
                    // Up to the new worker: the replay may hold a's own idle after the turn first.
                    List<ServerMessage> replay = new ArrayList<>(again.until(
                            m -> m instanceof ServerMessage.Notice n && "worker_restarted".equals(n.code())));
                    replay.addAll(
                            again.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE));
                    List<Long> seqs = seqs(replay);
                    assertEquals(last + 1, seqs.get(0), "nothing skipped: " + seqs);
                    assertEquals(
                            sawResult ? 0 : 1,
                            SessionClient.tags(replay).stream()
                                    .filter(t -> t.equals("event:result:slow"))
                                    .count(),
                            "the turn's result, once");
                    assertEquals(
                            "(released)",
                            notice(replay, "session_moved")
                                    .details()
                                    .path("from_node")
                                    .asText());
                    last = seqs.get(seqs.size() - 1);
                }
                // The next resume names the new node: served there, no other move.
                URI direct = URI.create(entry + "?session=" + open.id() + "&last_seq=" + last + "&node=" + movedTo);
                try (TestClient again = TestClient.connectWithHeader(direct, token(open.subject()))) {
                    ServerMessage.SessionReady ready = again.expect(ServerMessage.SessionReady.class);
                    assertEquals(movedTo, ready.node());
                    assertEquals(last, ready.lastSeq(), "no history was added by another move");
                }
                open.ws().close();
            }
            others.forEach(TestClient::close);
        }
    }

    @Test
    void aNodeStoppedWithSigtermLetsItsSessionsGoAfterTheRunningTurnAndAnotherTakesThemOverAtOnce() throws Exception {
        String id;
        long last;
        try (GatewayProcess stopped = nodeProcess("s", "before_send")) {
            URI onS = URI.create("ws://127.0.0.1:" + stopped.awaitListening() + "/ws");
            try (TestClient ws = TestClient.connectWithHeader(onS, token("sam"))) { // token() needs no node
                id = ws.expect(ServerMessage.SessionReady.class).sessionId();
                ws.send(new ClientMessage.Message("m1", JsonNodeFactory.instance.textNode("a long answer")));
                ws.until(m -> m instanceof ServerMessage.Event);
                stopped.signal("TERM");
                assertEquals(1001, ws.awaitCloseCode(), "go elsewhere");
                List<ServerMessage> rest = ws.drain(); // everything that came before the close
                assertTrue(
                        SessionClient.tags(rest).contains("event:result:m1"),
                        "the running turn finished first: " + SessionClient.tags(rest));
                last = seqs(rest).get(seqs(rest).size() - 1);
            }
            assertEquals(0, stopped.awaitExit(), "a clean exit");
        }
        try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            assertEquals(
                    "", store.read(id).toCompletableFuture().get().orElseThrow().node(), "released, owned by no node");
        }
        GatewayServer b = node("b");
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, last), token("sam"))) {
            assertTrue(ws.expect(ServerMessage.SessionReady.class).resumed());
            List<ServerMessage> after =
                    ws.until(m -> m instanceof ServerMessage.Notice n && "worker_restarted".equals(n.code()));
            ServerMessage.Notice moved = notice(after, "session_moved");
            assertEquals("(released)", moved.details().path("from_node").asText());
            assertFalse(moved.details().has("turn_id"), "no turn was lost: it finished before the release");
            assertEquals(
                    last + 1, seqs(after).get(0), "nothing between what the client saw and the move: " + seqs(after));
        }
    }

    @Test
    void aDrainedNodesQueuedMessagesGoOnOnTheNodeThatTakesTheSessionOver() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        long last;
        List<ServerMessage> seen = new ArrayList<>();
        try (TestClient ws = TestClient.connectWithHeader(uri(a), token("quinn"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            id = ready.sessionId();
            if (ready.state() != SessionState.IDLE) {
                ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            }
            ws.send(new ClientMessage.Message(
                    "slow",
                    JsonNodeFactory.instance
                            .objectNode()
                            .put("text", "abcd")
                            .put("deltas", 4)
                            .put("delay_ms", 150)));
            ClientMessage.Message queued = new ClientMessage.Message(
                    "queued",
                    JsonNodeFactory.instance
                            .objectNode()
                            .put("text", "later")
                            .put("deltas", 1)
                            .put("delay_ms", 0));
            ws.send(queued);
            seen.addAll(ws.until(m -> m instanceof ServerMessage.Accepted accepted && "queued".equals(accepted.id())));
            a.drain("test");
            seen.addAll(ws.until(m -> m instanceof ServerMessage.ShuttingDown));
            // Sent again while the slow turn runs (its client was not sure it got there): it was
            // taken before the drain and is kept, so it is a duplicate, not refused.
            ws.send(queued);
            List<ServerMessage> again =
                    ws.until(m -> (m instanceof ServerMessage.Accepted accepted && "queued".equals(accepted.id()))
                            || m instanceof ServerMessage.ErrorFrame);
            assertTrue(
                    again.get(again.size() - 1) instanceof ServerMessage.Accepted accepted && accepted.duplicate(),
                    SessionClient.tags(again).toString());
            seen.addAll(again);
            assertEquals(1001, ws.awaitCloseCode(), "a drained node's clients are sent elsewhere");
            List<ServerMessage> before = ws.drain();
            assertTrue(
                    before.stream().noneMatch(m -> m instanceof ServerMessage.ErrorFrame),
                    "nothing refused: " + SessionClient.tags(before));
            assertFalse(
                    SessionClient.tags(before).contains("event:result:queued"), "the queued one did not start on a");
            seen.addAll(before);
            last = seqs(seen).get(seqs(seen).size() - 1);
        }
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, last), token("quinn"))) {
            assertTrue(ws.expect(ServerMessage.SessionReady.class).resumed());
            seen.addAll(ws.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText())
                    && "queued".equals(e.event().path("id").asText())));
        }
        List<String> tags = SessionClient.tags(seen);
        assertEquals(
                1,
                tags.stream().filter("event:result:slow"::equals).count(),
                "the running turn finished on a, " + "its result seen once (before the close, or in b's replay): "
                        + tags);
        assertTrue(tags.indexOf("event:result:slow") < tags.indexOf("notice:session_moved"), tags::toString);
    }

    @Test
    void turnCountsGoOnAfterBackToBackTurnsAndADrain() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        long last;
        List<ServerMessage> seen = new ArrayList<>();
        try (TestClient ws = TestClient.connectWithHeader(uri(a), token("tina"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            id = ready.sessionId();
            for (int i = 1; i <= 5; i++) {
                ws.send(new ClientMessage.Message(
                        "q" + i,
                        JsonNodeFactory.instance
                                .objectNode()
                                .put("text", "t" + i)
                                .put("deltas", 1)
                                .put("delay_ms", 0)));
            }
            seen.addAll(ws.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText())
                    && "q5".equals(e.event().path("id").asText())));
            a.drain("test");
            assertEquals(1001, ws.awaitCloseCode());
            seen.addAll(ws.drain());
            last = seqs(seen).get(seqs(seen).size() - 1);
        }
        String storedCheckpoint;
        try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            String checkpoint =
                    store.read(id).toCompletableFuture().get().orElseThrow().checkpoint();
            storedCheckpoint = checkpoint == null ? "none" : checkpoint;
        }
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, last), token("tina"))) {
            assertTrue(ws.expect(ServerMessage.SessionReady.class).resumed());
            ws.until(m -> m instanceof ServerMessage.Notice n && "worker_restarted".equals(n.code()));
            ws.send(new ClientMessage.Message("q6", JsonNodeFactory.instance.textNode("six")));
            List<ServerMessage> turn = ws.until(m -> m instanceof ServerMessage.Event e
                    && "result".equals(e.event().path("type").asText()));
            assertEquals(
                    6,
                    ((ServerMessage.Event) turn.get(turn.size() - 1))
                            .event()
                            .path("turn")
                            .asInt(),
                    "the turn count goes on: " + SessionClient.tags(turn) + "; checkpoint stored " + storedCheckpoint
                            + "; seen on a " + SessionClient.tags(seen));
        }
    }

    @Test
    void aNodeRestartedUnderTheSameIdSaysItHasNoCopyAndItsSessionIsTakenOverAtOnce() throws Exception {
        String id;
        try (GatewayProcess first = nodeProcess("r", "before_send")) {
            URI onR = URI.create("ws://127.0.0.1:" + first.awaitListening() + "/ws");
            try (TestClient ws = TestClient.connectWithHeader(onR, token("rita"))) { // token() needs no node
                id = ws.expect(ServerMessage.SessionReady.class).sessionId();
                first.signal("KILL");
                first.awaitExit();
            }
        }
        try (Overheard toB = new Overheard(redis.uri(), "b");
                GatewayProcess again = nodeProcess("r", "before_send")) {
            again.awaitListening(); // node r is back (its lease renewed) with none of its sessions
            GatewayServer b = node("b");
            try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("rita"))) {
                assertTrue(ws.expect(ServerMessage.SessionReady.class).resumed());
                assertEquals(
                        "r",
                        notice(
                                        ws.until(m -> m instanceof ServerMessage.Notice n
                                                && "session_moved".equals(n.code())),
                                        "session_moved")
                                .details()
                                .path("from_node")
                                .asText());
            }
            assertTrue(
                    toB.messages.contains("absent " + id),
                    "r answered that it has no copy, rather than " + "letting b wait handoff_timeout and the lease: "
                            + toB.messages);
        }
    }

    @Test
    void behindNginxASessionOfANodeKilledMidTurnIsResumedOnALiveOneWithTheLostTurnNamed() throws Exception {
        try (GatewayProcess k = nodeProcess("k", "before_send")) {
            int kPort = k.awaitListening();
            List<GatewayServer> live = List.of(node("b"), node("c"));
            List<Nginx.Node> behind = new ArrayList<>();
            behind.add(new Nginx.Node("k", new InetSocketAddress(InetAddress.getLoopbackAddress(), kPort)));
            live.forEach(n -> behind.add(new Nginx.Node(n.config().server().nodeId(), address(n))));
            try (Nginx nginx =
                    Nginx.start(tmp.resolve("nginx-" + System.nanoTime()), behind, Duration.ofSeconds(60), true)) {
                URI entry = URI.create("ws://127.0.0.1:" + nginx.port() + "/ws");
                TestClient onK = null;
                String id = null;
                String subject = null;
                List<TestClient> others = new ArrayList<>();
                for (int i = 0; onK == null; i++) {
                    assertTrue(i < 60, "new sessions through nginx never reached node k");
                    TestClient ws = TestClient.connectWithHeader(entry, token("kim-" + i));
                    ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
                    if ("k".equals(ready.node())) {
                        onK = ws;
                        id = ready.sessionId();
                        subject = "kim-" + i;
                    } else {
                        others.add(ws);
                    }
                }
                onK.send(new ClientMessage.Message("m1", JsonNodeFactory.instance.textNode("a long answer")));
                List<ServerMessage> upToDelta = onK.until(m -> m instanceof ServerMessage.Event);
                long seen = seqs(upToDelta).get(seqs(upToDelta).size() - 1);
                k.signal("KILL");
                k.awaitExit();
                // The client resumes where it was served: nginx finds k dead and passes the resume on.
                URI resume = URI.create(entry + "?session=" + id + "&last_seq=" + seen + "&node=k");
                try (TestClient again = TestClient.connectWithHeader(resume, token(subject))) {
                    ServerMessage.SessionReady ready = again.expect(ServerMessage.SessionReady.class);
                    assertTrue(ready.resumed());
                    assertTrue(
                            "b".equals(ready.node()) || "c".equals(ready.node()),
                            "a live node took it: " + ready.node());
                    List<ServerMessage> after =
                            again.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
                    ServerMessage.Notice moved = notice(after, "session_moved");
                    assertEquals("k", moved.details().path("from_node").asText());
                    assertEquals("m1", moved.details().path("turn_id").asText(), "the turn that died with k is named");
                    assertTrue(seqs(after).get(0) > seen, "history goes on above what the client saw");
                    again.send(new ClientMessage.Message("m2", JsonNodeFactory.instance.textNode("go on")));
                    again.until(m -> m instanceof ServerMessage.Event e
                            && "result".equals(e.event().path("type").asText()));
                }
                onK.close();
                others.forEach(TestClient::close);
            }
        }
    }

    @Test
    void whileRedisIsAwayNewSessionsAreRefusedAndARedisRestartedEmptyForgetsItsSessions() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        try (SessionClient c = SessionClient.openIdle(uri(a), token("gina"))) {
            id = c.sessionId();
        }
        redis.kill();
        try {
            Poll.until(
                    "a's /readyz says store_unavailable",
                    Duration.ofSeconds(20),
                    () -> readyz(a).contains("store_unavailable"));
            RawHttp.Response refused =
                    RawHttp.upgrade(address(b), "/ws", Map.of("Authorization", "Bearer " + token("gina")));
            assertEquals(503, refused.status(), refused.body());
            assertTrue(refused.header("Retry-After") != null, "with Retry-After");
        } finally {
            redis.restartEmpty();
        }
        Poll.until(
                "b's /readyz is ready again",
                Duration.ofSeconds(20),
                () -> readyz(b).contains("\"ready\""));
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("gina"))) {
            assertEquals(
                    ErrorCode.SESSION_NOT_FOUND,
                    ws.expect(ServerMessage.ErrorFrame.class).code(),
                    "a session the store forgot is not found, never another one");
            assertEquals(4004, ws.awaitCloseCode());
        }
        try (SessionClient fresh = SessionClient.openIdle(uri(b), token("gina"))) {
            assertFalse(fresh.sessionId().equals(id));
        }
    }

    @Test
    void whileRedisDoesNotAnswerAnAttachedSessionGoesOnAndItsHistoryIsStoredOnceRedisIsBack() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        List<ServerMessage> onA = new ArrayList<>();
        try (SessionClient c = SessionClient.openIdle(uri(a), token("hana"))) {
            id = c.sessionId();
            redis.freeze();
            try {
                onA.addAll(c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":2,\"delay_ms\":0}"));
                assertEquals(
                        1,
                        SessionClient.event(onA, "result").path("turn").asInt(),
                        "the turn ran and was shown while Redis did not answer: " + SessionClient.tags(onA));
                if (onA.stream()
                        .noneMatch(m -> m instanceof ServerMessage.Notice n && "store_unavailable".equals(n.code()))) {
                    // Shown before the notice when the turn was quicker than unavailable_after.
                    onA.addAll(
                            c.until(m -> m instanceof ServerMessage.Notice n && "store_unavailable".equals(n.code())));
                }
                assertTrue(scrape(a).contains("tether_sessions_store_away 1.0"), "the gauge counts it");
            } finally {
                redis.unfreeze();
            }
            onA.addAll(c.until(m -> m instanceof ServerMessage.Notice n && "store_available".equals(n.code())));
            assertTrue(scrape(a).contains("tether_sessions_store_away 0.0"));
        }
        long newestOnA = seqs(onA).get(seqs(onA).size() - 1);
        a.close();
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("hana"))) {
            assertTrue(ws.expect(ServerMessage.SessionReady.class).resumed());
            List<ServerMessage> replay =
                    ws.until(m -> m instanceof ServerMessage.Notice n && "session_moved".equals(n.code()));
            long firstOnA = seqs(onA).get(0);
            assertEquals(
                    tagsBetween(onA, firstOnA, newestOnA),
                    tagsBetween(replay, firstOnA, newestOnA),
                    "what a showed while Redis hung was stored once it answered, and b replays it");
            assertTrue(replay.stream().noneMatch(m -> m instanceof ServerMessage.ReplayGap), "nothing lost");
        }
    }

    /**
     * A node in a process of its own, so that it can be killed with SIGKILL: the echo worker with a
     * slow turn (5 deltas a second apart), a 1 s lease, sessions in this test's Redis.
     */
    private GatewayProcess nodeProcess(String nodeId, String writeMode) throws IOException {
        return nodeProcess(nodeId, writeMode, """
                worker:
                  kind: echo
                  echo:
                    deltas: 5
                    delta_interval: 1s
                """);
    }

    /** Like {@link #nodeProcess(String, String)}, with {@code worker} (a YAML {@code worker:} section) instead. */
    private GatewayProcess nodeProcess(String nodeId, String writeMode, String worker) throws IOException {
        Path file = Files.writeString(tmp.resolve(nodeId + ".yaml"), """
                server:
                  host: 127.0.0.1
                  port: 0
                  node_id: %s
                admin:
                  enabled: false
                auth:
                  hmac_secret: %s
                %s
                sessions:
                  store: redis
                  redis:
                    uri: %s
                    lease: 1s
                    write_mode: %s
                """.formatted(
                        nodeId,
                        GatewayProcess.TEST_SECRET,
                        worker.strip().replace("\n", "\n                "),
                        redis.uri(),
                        writeMode));
        Map<String, String> env = new HashMap<>();
        for (String name : List.of(
                "TETHER_JWT_SECRET", "TETHER_PORT", "TETHER_ADMIN_PORT", "TETHER_NODE_ID", "TETHER_REDIS_URI")) {
            env.put(name, null); // the file says it all
        }
        return GatewayProcess.start(tmp, env, "--config", file.toString());
    }

    /** What is published on one node's hand-off channel, heard by a connection of the test's own. */
    private static final class Overheard implements AutoCloseable {
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());
        private final RedisClient client;
        private final StatefulRedisPubSubConnection<String, String> connection;

        Overheard(String uri, String node) {
            client = RedisClient.create(uri);
            connection = client.connectPubSub();
            connection.addListener(new RedisPubSubAdapter<>() {
                @Override
                public void message(String channel, String message) {
                    messages.add(message);
                }
            });
            connection.sync().subscribe("tether:node:{" + node + "}:handoff");
        }

        @Override
        public void close() {
            connection.close();
            client.shutdown();
        }
    }

    private String scrape(GatewayServer server) {
        try {
            return HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                            + address(server).getPort() + "/metrics"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private String readyz(GatewayServer server) {
        try {
            HttpResponse<String> response = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                            + address(server).getPort() + "/readyz"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            return response.body();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    // ---- helpers ----

    private static List<Long> seqs(List<ServerMessage> messages) {
        return messages.stream()
                .filter(m -> m instanceof ServerMessage.Sequenced)
                .map(m -> ((ServerMessage.Sequenced) m).seq())
                .toList();
    }

    private static List<String> tagsBetween(List<ServerMessage> messages, long from, long to) {
        return historyTags(messages.stream()
                .filter(m -> m instanceof ServerMessage.Sequenced s && s.seq() >= from && s.seq() <= to)
                .toList());
    }

    private InetSocketAddress address(GatewayServer server) {
        return addresses.get(server);
    }

    private URI uri(GatewayServer server) {
        return URI.create("ws://127.0.0.1:" + address(server).getPort() + "/ws");
    }

    private URI viewUri(GatewayServer server, String id) {
        return URI.create(uri(server) + "?session=" + id + "&role=viewer&last_seq=0");
    }

    private URI resumeUri(GatewayServer server, String id, long lastSeq) {
        return URI.create(uri(server) + "?session=" + id + "&last_seq=" + lastSeq);
    }

    private static String token(String subject) {
        return new TokenMinter(GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofHours(1), Map.of());
    }

    @Test
    void aRequestWaitingWhenTheSessionMovesResolvesOnceAsCancelled() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        ServerMessage.Request request;
        try (SessionClient c = SessionClient.openIdle(uri(a), token("quin"))) {
            id = c.sessionId();
            c.sendAccepted("m1", "{\"ask\":{\"kind\":\"question\"},\"deltas\":1,\"delay_ms\":0}", 0);
            request = c.awaitRequest();
        }
        a.close(); // releases the session: the worker that asked is stopped, its request cancelled in history

        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("quin"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertEquals(List.of(), ready.pendingRequests(), "nothing waits: the worker that asked is gone");
            List<ServerMessage> replay = ws.until(m -> m instanceof ServerMessage.RequestResolved);
            ServerMessage.RequestResolved resolved = (ServerMessage.RequestResolved) replay.get(replay.size() - 1);
            assertEquals(request.requestId(), resolved.requestId());
            assertEquals(RequestOutcome.CANCELLED, resolved.outcome());
            ws.until(m ->
                    m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE && s.seq() > resolved.seq());
            ws.send(new ClientMessage.Respond(request.requestId(), JsonNodeFactory.instance.objectNode()));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    ws.expect(ServerMessage.ErrorFrame.class).code(),
                    "resolved once, on any node");
        }
    }

    @Test
    void aRequestLeftWaitingByANodeThatDiedResolvesAsCancelledWhereTheSessionGoesOn() throws Exception {
        String id;
        String requestId;
        try (GatewayProcess dead = nodeProcess("asker", "before_send", """
                worker:
                  kind: process
                  process:
                    env:
                      DEMO_READY_DELAY: 0s
                    work_root: %s
                """.formatted(tmp.resolve("asker-work")))) {
            URI onDead = URI.create("ws://127.0.0.1:" + dead.awaitListening() + "/ws");
            String token = new TokenMinter(
                            GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                    .mint("vera", Duration.ofHours(1), Map.of());
            try (TestClient ws = TestClient.connectWithHeader(onDead, token)) {
                id = ws.expect(ServerMessage.SessionReady.class).sessionId();
                ws.send(new ClientMessage.Message(
                        "m1",
                        JsonNodeFactory.instance
                                .objectNode()
                                .set(
                                        "ask",
                                        JsonNodeFactory.instance.objectNode().put("kind", "question"))));
                requestId = ws.awaitRequest().requestId();
                dead.signal("KILL");
                dead.awaitExit();
            }
        }
        GatewayServer b = node("b");
        try (TestClient ws = TestClient.connectWithHeader(resumeUri(b, id, 0), token("vera"))) {
            ServerMessage.SessionReady ready = ws.expect(ServerMessage.SessionReady.class);
            assertEquals(List.of(), ready.pendingRequests(), "the worker that asked died with its node");
            List<ServerMessage> replay = ws.until(m -> m instanceof ServerMessage.RequestResolved);
            assertTrue(
                    replay.stream()
                            .anyMatch(m -> m instanceof ServerMessage.Request r
                                    && r.requestId().equals(requestId)),
                    "the request is in the history b continues: " + SessionClient.tags(replay));
            ServerMessage.RequestResolved resolved = (ServerMessage.RequestResolved) replay.get(replay.size() - 1);
            assertEquals(requestId, resolved.requestId());
            assertEquals(RequestOutcome.CANCELLED, resolved.outcome());
            ws.until(m -> m instanceof ServerMessage.Status s && s.state() == SessionState.IDLE);
            ws.send(new ClientMessage.Respond(requestId, JsonNodeFactory.instance.objectNode()));
            assertEquals(
                    ErrorCode.REQUEST_RESOLVED,
                    ws.expect(ServerMessage.ErrorFrame.class).code());
        }
    }

    @Test
    void aViewerOnAnotherNodeIsToldWhereTheSessionIsAndNeverMovesIt() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        try (SessionClient owner = SessionClient.openIdle(uri(a), token("wren"))) {
            String id = owner.sessionId();
            long epoch;
            try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
                epoch = store.read(id).toCompletableFuture().get().orElseThrow().epoch();
            }
            try (TestClient viewer = TestClient.connectWithHeader(viewUri(b, id), token("wren"))) {
                ServerMessage.ErrorFrame busy = viewer.expect(ServerMessage.ErrorFrame.class);
                assertEquals(ErrorCode.SESSION_BUSY, busy.code());
                assertTrue(busy.message().contains("&node=a"), busy.message());
                assertEquals(1001, viewer.awaitCloseCode());
            }
            try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
                StoredSession stored =
                        store.read(id).toCompletableFuture().get().orElseThrow();
                assertEquals("a", stored.node(), "the viewer did not take the session over");
                assertEquals(epoch, stored.epoch());
            }
            assertTrue(b.registry().get(id).isEmpty());
            assertEquals(
                    1,
                    SessionClient.event(
                                    owner.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}"), "result")
                            .path("turn")
                            .asInt(),
                    "the owner goes on undisturbed");
        }
    }

    @Test
    void aSessionsViewersAreSentToReconnectWhenItMovesToAnotherNode() throws Exception {
        GatewayServer a = node("a");
        GatewayServer b = node("b");
        String id;
        try (SessionClient owner = SessionClient.openIdle(uri(a), token("xena"))) {
            id = owner.sessionId();
            try (TestClient viewer = TestClient.connectWithHeader(viewUri(a, id), token("xena"))) {
                assertEquals(
                        Role.VIEWER,
                        viewer.expect(ServerMessage.SessionReady.class).role());
                // The owner resumes on b: a hands the session over, and its viewer is told to reconnect.
                try (TestClient moved = TestClient.connectWithHeader(resumeUri(b, id, 0), token("xena"))) {
                    assertTrue(moved.expect(ServerMessage.SessionReady.class).resumed());
                    assertEquals(1001, viewer.awaitCloseCode());
                }
            }
        }
        try (TestClient viewer = TestClient.connectWithHeader(viewUri(b, id), token("xena"))) {
            assertEquals(
                    Role.VIEWER,
                    viewer.expect(ServerMessage.SessionReady.class).role(),
                    "reconnected where the session went");
        }
    }

    @Test
    void aHandOffRequestForAnOlderClaimLeavesTheSessionWhereItIs() throws Exception {
        GatewayServer a = node("a");
        try (SessionClient c = SessionClient.openIdle(uri(a), token("grace"));
                LogCapture log = LogCapture.of("dev.tether.gateway.store.SharedSessionStore");
                RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            String id = c.sessionId();
            long epoch =
                    store.read(id).toCompletableFuture().get().orElseThrow().epoch();
            // A request retried past the take-over it was meant for (another node asked for the
            // claim before this one) must not send away the client that has just attached here.
            store.requestHandoff("a", id, "b", epoch - 1).toCompletableFuture().get();
            log.await(
                    e -> e.getFormattedMessage().startsWith("hand-off request for epoch " + (epoch - 1) + " ignored"));
            List<ServerMessage> turn = c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
            assertEquals(1, SessionClient.event(turn, "result").path("turn").asInt());
            assertTrue(a.registry().get(id).orElseThrow().attached(), "still attached on a");
            StoredSession stored = store.read(id).toCompletableFuture().get().orElseThrow();
            assertEquals("a", stored.node(), "the store still names a");
            assertEquals(epoch, stored.epoch());

            // The claim it holds is asked for: it goes.
            store.requestHandoff("a", id, "b", epoch).toCompletableFuture().get();
            c.expect(ServerMessage.SessionReplaced.class);
        }
    }

    @Test
    void ofFiftySimultaneousResumesOverThreeNodesOneEndsUpOwningTheSession() throws Exception {
        List<GatewayServer> three = List.of(node("a"), node("b"), node("c"));
        String id;
        try (SessionClient c = SessionClient.openIdle(uri(three.get(0)), token("frank"))) {
            id = c.sessionId();
            c.roundTrip("t1", "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}");
        }
        List<TestClient> clients = Collections.synchronizedList(new ArrayList<>());
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> starters = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < 50; i++) {
            GatewayServer target = three.get(i % 3);
            Thread starter = new Thread(() -> {
                try {
                    go.await();
                    // As a real client does: a resume answered session_busy (the session was moving,
                    // close 1001) is made again; any other answer is kept (a later resume replaces it).
                    for (int attempt = 1; ; attempt++) {
                        TestClient client = TestClient.connectWithHeader(resumeUri(target, id, 0), token("frank"));
                        ServerMessage first = client.poll(Duration.ofSeconds(60));
                        if (first instanceof ServerMessage.ErrorFrame busy
                                && busy.code() == ErrorCode.SESSION_BUSY
                                && attempt < 20) {
                            client.close();
                            continue;
                        }
                        clients.add(client);
                        break;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException | AssertionError e) {
                    failures.add(e.toString());
                }
            });
            starter.start();
            starters.add(starter);
        }
        go.countDown();
        for (Thread starter : starters) {
            starter.join(30_000);
        }
        assertEquals(50, clients.size(), () -> "every resume got an answer: " + failures);
        try {
            Poll.until(
                    "one connection open, and one node holding the session with it attached",
                    Duration.ofSeconds(60),
                    () -> List.of(
                            clients.stream().filter(TestClient::isOpen).count(),
                            three.stream()
                                    .filter(n -> n.registry().get(id).isPresent())
                                    .count(),
                            three.stream()
                                    .filter(n -> n.registry()
                                            .get(id)
                                            .map(Session::attached)
                                            .orElse(false))
                                    .count()),
                    openHoldingAttached -> openHoldingAttached.equals(List.of(1L, 1L, 1L)));
        } catch (AssertionError notSettled) {
            StringBuilder why = new StringBuilder();
            for (TestClient open : clients) {
                if (open.isOpen()) {
                    why.append(SessionClient.tags(open.drain())).append('\n');
                }
            }
            three.forEach(n -> why.append(n.config().server().nodeId())
                    .append(": ")
                    .append(n.registry()
                            .get(id)
                            .map(x -> "has it, attached " + x.attached())
                            .orElse("no"))
                    .append('\n'));
            try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
                StoredSession stored =
                        store.read(id).toCompletableFuture().get().orElseThrow();
                why.append("store: node ")
                        .append(stored.node())
                        .append(" epoch ")
                        .append(stored.epoch());
            }
            throw new AssertionError(
                    "open connections of 50 did not come down to one (" + notSettled.getMessage() + "):\n" + why,
                    notSettled);
        }
        List<GatewayServer> owners =
                three.stream().filter(n -> n.registry().get(id).isPresent()).toList();
        assertEquals(1, owners.size(), "one node has the session");
        GatewayServer owner = owners.get(0);
        assertTrue(owner.registry().get(id).orElseThrow().attached(), "with the one open connection attached");
        try (RedisSessionStore store = RedisSessionStore.connect(redis.uri(), Duration.ofSeconds(5))) {
            assertEquals(
                    owner.config().server().nodeId(),
                    store.read(id).toCompletableFuture().get().orElseThrow().node(),
                    "the store names the same owner");
        }
        TestClient survivor =
                clients.stream().filter(TestClient::isOpen).findFirst().orElseThrow();
        List<ServerMessage> before = survivor.drain();
        survivor.send(new ClientMessage.Message("t2", JsonNodeFactory.instance.textNode("two")));
        // The last take-over's worker may be a cold start behind the dozens the race started and
        // stopped (seen taking 10 s on a loaded CI machine): the turn gets a minute.
        List<ServerMessage> turn = new ArrayList<>();
        long turnDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (turn.isEmpty()
                || !(turn.get(turn.size() - 1) instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText()))) {
            ServerMessage next = survivor.poll(Duration.ofNanos(Math.max(1, turnDeadline - System.nanoTime())));
            if (next == null) {
                throw new AssertionError("survivor had " + SessionClient.tags(before) + " and then "
                        + SessionClient.tags(turn) + "; owner state "
                        + owner.registry().get(id).orElseThrow().state());
            }
            turn.add(next);
        }
        assertEquals(
                2,
                ((ServerMessage.Event) turn.get(turn.size() - 1))
                        .event()
                        .path("turn")
                        .asInt(),
                "the conversation goes on where it was");
        clients.forEach(TestClient::close);
    }
}
