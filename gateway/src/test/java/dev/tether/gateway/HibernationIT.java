package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.tag;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.session.SessionSnapshot;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RedisNodes;
import dev.tether.gateway.testing.RedisServer;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.ManualClock;
import dev.tether.testkit.Poll;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hibernation (contract 1.2, 8.9) end to end: a real gateway whose clock is a {@link ManualClock},
 * real demo-worker subprocesses (which checkpoint their turn count), real WebSocket clients. Moving
 * the clock past {@code limits.hibernate_after} puts an idle session to sleep within a round of the
 * hibernation sweep: its worker process goes, its pool slot serves another session, and its next
 * message wakes it on a new worker that continues the turn count.
 */
class HibernationIT {

    private static final Duration AFTER = Duration.ofMinutes(10);
    private static final String HIBERNATE = """
            limits:
              hibernate_after: 10m
            """;

    /** One worker at most: a sleeping session's slot is the only one there is. */
    private static final ManualClock oneWorkerClock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    @RegisterExtension
    static final GatewayExtension oneWorker =
            DemoWorkers.gateway("hib-one", HIBERNATE + """
                    pool:
                      max_workers: 1
                    sessions:
                      max_queued_messages: 2
                    """).withClock(oneWorkerClock);

    private static final ManualClock twoWorkersClock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));

    @RegisterExtension
    static final GatewayExtension twoWorkers =
            DemoWorkers.gateway("hib-two", HIBERNATE + """
                    pool:
                      max_workers: 2
                      min_idle: 0
                    """).withClock(twoWorkersClock);

    @TempDir
    static Path tmp;

    @Test
    void anIdleSessionSleepsFreesItsWorkerAndWakesOnItsNextMessageWhereItLeftOff() {
        PoolStatus warm = Poll.until("a warm worker", () -> pool(oneWorker), s -> s.warm() == 1);
        assertEquals(1, warm.live());
        String id;
        try (SessionClient alice = SessionClient.openIdle(oneWorker, "hib-alice")) {
            id = alice.sessionId();
            assertEquals(
                    1,
                    SessionClient.event(alice.roundTrip("m1", "{}"), "result")
                            .path("turn")
                            .asInt());
            Set<Long> before = DemoWorkers.running("hib-one");
            assertEquals(1, before.size(), "alice's worker: " + before);
            long pid = before.iterator().next();

            oneWorkerClock.advance(AFTER.minusSeconds(1));
            oneWorkerClock.advance(Duration.ofSeconds(1));
            List<ServerMessage> asleep = alice.until(m -> SessionClient.isStatus(m, SessionState.HIBERNATED));
            assertEquals(List.of("status:hibernated:idle"), historyTags(asleep));
            Poll.until("alice's worker process gone", () -> !DemoWorkers.alive(pid));
            assertEquals(SessionState.HIBERNATED, snapshot(oneWorker, id).state(), "the admin snapshot");
            assertEquals(null, snapshot(oneWorker, id).workerPid());
            String scrape = MetricsIT.scrape(oneWorker);
            assertEquals(1, MetricsIT.value(scrape, "tether_sessions_hibernated_total"), scrape);
            assertEquals(1, MetricsIT.value(scrape, "tether_sessions{state=\"hibernated\""), scrape);

            // Its slot serves another session; while that one holds the only worker, alice cannot wake.
            Poll.until(
                    "alice's slot given back: the pool keeps a warm worker in it",
                    () -> pool(oneWorker),
                    s -> s.warm() == 1);
            try (SessionClient bob = SessionClient.openIdle(oneWorker, "hib-bob")) {
                assertEquals(
                        1,
                        SessionClient.event(bob.roundTrip("b1", "{}"), "result")
                                .path("turn")
                                .asInt());
                alice.send("m2", "{}");
                ServerMessage.ErrorFrame busy = alice.expect(ServerMessage.ErrorFrame.class);
                assertEquals(ErrorCode.SESSION_BUSY, busy.code());
                assertEquals("m2", busy.id());
                assertEquals(SessionState.HIBERNATED, snapshot(oneWorker, id).state(), "still asleep");
                bob.send(new ClientMessage.End());
            }
            Poll.until("a warm worker again", () -> pool(oneWorker), s -> s.warm() == 1);

            // The wake: a slow first turn, and a flood behind it that the queue bound (2) cuts.
            alice.send("m2", "{\"text\":\"slow turn\",\"deltas\":5,\"delay_ms\":500}");
            for (int i = 3; i <= 7; i++) {
                alice.send("m" + i, "{\"deltas\":0}");
            }
            List<String> answers = new ArrayList<>();
            List<String> accepted = new ArrayList<>();
            List<ServerMessage> woke = new ArrayList<>();
            while (answers.size() < 6) {
                ServerMessage m = alice.next();
                woke.add(m);
                if (m instanceof ServerMessage.Accepted a) {
                    answers.add(a.id());
                    accepted.add(a.id());
                } else if (m instanceof ServerMessage.ErrorFrame e) {
                    assertEquals(
                            ErrorCode.QUEUE_FULL, e.code(), () -> tags(woke).toString());
                    answers.add(e.id());
                }
            }
            assertEquals(List.of("m2", "m3", "m4", "m5", "m6", "m7"), answers);
            assertTrue(accepted.size() >= 2 && accepted.size() <= 3, "m2 and one or two behind it: " + accepted);
            assertEquals("m2", accepted.get(0));
            assertEquals(
                    "status:preparing:wake", tag(woke.get(0)), () -> tags(woke).toString());
            for (int turn = 0; turn < accepted.size(); turn++) {
                String messageId = accepted.get(turn);
                List<ServerMessage> upTo = alice.until(m -> m instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText())
                        && messageId.equals(e.event().path("id").asText()));
                ServerMessage.Event result = (ServerMessage.Event) upTo.get(upTo.size() - 1);
                assertEquals(2 + turn, result.event().path("turn").asInt(), "the turn count goes on");
            }
            alice.untilTag("status:idle");
            assertEquals(1, MetricsIT.value(MetricsIT.scrape(oneWorker), "tether_session_wake_seconds_count"));
        }

        try (SessionClient again = SessionClient.resume(oneWorker, "hib-alice", id, 0)) {
            assertTrue(again.ready.resumed());
            List<ServerMessage> replay =
                    again.until(m -> m instanceof ServerMessage.Status s && s.seq() == again.ready.lastSeq());
            List<String> history = historyTags(replay);
            assertEquals(
                    1, history.stream().filter("status:hibernated:idle"::equals).count(), history::toString);
            assertEquals(
                    1, history.stream().filter("status:preparing:wake"::equals).count(), history::toString);
            again.send(new ClientMessage.End());
        }
    }

    @Test
    void aSessionWhoseWorkerSentNoCheckpointSinceItsLastTurnNeverSleeps() {
        try (SessionClient silent = SessionClient.openIdle(twoWorkers, "hib-carol");
                SessionClient witness = SessionClient.openIdle(twoWorkers, "hib-dave")) {
            witness.roundTrip("w1", "{}");
            silent.roundTrip("s1", "{\"bad_checkpoint\":true}"); // its checkpoint line has no state: not kept
            Set<Long> workers = DemoWorkers.running("hib-two");
            assertEquals(2, workers.size(), workers::toString);

            twoWorkersClock.advance(AFTER.multipliedBy(2));
            // The sweep looks at every session in one round: once the witness sleeps, carol was judged too.
            witness.until(m -> SessionClient.isStatus(m, SessionState.HIBERNATED));
            assertEquals(
                    SessionState.IDLE, snapshot(twoWorkers, silent.sessionId()).state());
            Long pid = snapshot(twoWorkers, silent.sessionId()).workerPid();
            assertTrue(pid != null && DemoWorkers.alive(pid), "carol's worker runs on");

            // A turn that checkpoints makes it sleep like any other.
            silent.roundTrip("s2", "{}");
            twoWorkersClock.advance(AFTER);
            silent.until(m -> SessionClient.isStatus(m, SessionState.HIBERNATED));
            Poll.until("carol's worker gone", () -> !DemoWorkers.alive(pid));
        }
    }

    @Test
    void aSleepingSessionMovedToAnotherNodeSleepsOnThereAndWakesOnItsNextMessage() throws Exception {
        // The store expires a session's keys by the creation time its node's clock gives: near now.
        ManualClock nodeClock =
                new ManualClock(Instant.ofEpochSecond(Instant.now().getEpochSecond()));
        try (RedisServer redis = RedisServer.start(tmp)) {
            GatewayServer a = new GatewayServer(RedisNodes.config("hib-a", "a", redis.uri(), HIBERNATE), nodeClock);
            GatewayServer b = new GatewayServer(RedisNodes.config("hib-b", "b", redis.uri(), HIBERNATE), nodeClock);
            try (a;
                    b;
                    RedisClient raw = RedisClient.create(redis.uri());
                    StatefulRedisConnection<String, String> store = raw.connect()) {
                URI onA = nodeUri(a);
                URI onB = nodeUri(b);
                String token = new TokenMinter(
                                GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", nodeClock)
                        .mint("hib-erin", Duration.ofDays(1), Map.of());
                String id;
                long asleepSeq;
                try (SessionClient owner = SessionClient.openIdle(onA, token)) {
                    id = owner.sessionId();
                    owner.roundTrip("m1", "{}");
                    nodeClock.advance(AFTER);
                    List<ServerMessage> upTo = owner.until(m -> SessionClient.isStatus(m, SessionState.HIBERNATED));
                    asleepSeq = ((ServerMessage.Status) upTo.get(upTo.size() - 1)).seq();
                    String directory = "tether:{" + id + "}:dir"; // StoreKeys.directory
                    Poll.until(
                            "the store holds the state",
                            () -> store.sync().hget(directory, "state"),
                            "hibernated"::equals);
                }

                try (SessionClient moved =
                        SessionClient.open(URI.create(onB + "?session=" + id + "&last_seq=0"), token)) {
                    assertEquals("b", moved.ready.node());
                    assertEquals(SessionState.HIBERNATED, moved.ready.state(), "it sleeps on where it went");
                    assertTrue(moved.ready.lastSeq() >= asleepSeq, "its history goes on from a's");
                    assertEquals(
                            SessionState.HIBERNATED,
                            b.registry().get(id).orElseThrow().state());
                    // The take-over reserved a worker before it knew the session sleeps; that one is
                    // let go (and the pool refilled) on its own time, so wait for it to be gone. A
                    // worker kept for the sleeper would leave two (it and the refilled warm one).
                    Poll.until(
                            "no worker of its own on b, at most the warm one",
                            () -> DemoWorkers.running("hib-b").size(),
                            running -> running <= 1);
                    moved.send("m2", "{}");
                    List<ServerMessage> woke = moved.until(m -> "event:result:m2".equals(tag(m)));
                    List<String> history = historyTags(woke);
                    assertEquals(
                            1,
                            history.stream()
                                    .filter("status:hibernated:idle"::equals)
                                    .count(),
                            history::toString);
                    assertTrue(history.contains("notice:session_moved"), history::toString);
                    assertEquals(
                            history.indexOf("notice:session_moved") + 1,
                            history.indexOf("status:preparing:wake"),
                            () -> "no status between the move and the wake: " + history);
                    ServerMessage.Event result = (ServerMessage.Event) woke.get(woke.size() - 1);
                    assertEquals(2, result.event().path("turn").asInt(), "the turn count goes on, on b");
                    moved.send(new ClientMessage.End());
                }
            }
        }
    }

    private static URI nodeUri(GatewayServer server) throws InterruptedException {
        return URI.create("ws://127.0.0.1:" + server.start().getPort() + "/ws");
    }

    private static PoolStatus pool(GatewayExtension gateway) {
        return gateway.server().pool().orElseThrow().status();
    }

    private static SessionSnapshot snapshot(GatewayExtension gateway, String id) {
        Session session = gateway.server().registry().get(id).orElseThrow();
        return session.snapshot().toCompletableFuture().join();
    }
}
