package dev.tether.gateway;

import static dev.tether.gateway.SupervisionIT.workerPid;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.gateway.worker.pool.WorkerPool;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The warm pool end to end, with real demo-worker subprocesses: warm hits and cold starts, the init
 * timeout, {@code pool.max_workers}, replacing idle workers on a configuration change, and gateway
 * shutdown stopping every worker. Processes are told apart by the marker {@link DemoWorkers} puts
 * on each gateway's worker command line.
 */
class WorkerPoolIT {

    /** One warm worker kept; workers take 1.5 s to get ready, so a cold start is visibly cold. */
    @RegisterExtension
    static final GatewayExtension slowStart = DemoWorkers.gateway("slow-start", """
            worker:
              process:
                env:
                  DEMO_READY_DELAY: 1500ms
            """);

    /**
     * Workers would take 5 s to get ready but get 500 ms: every spawn fails. A long backoff keeps
     * background spawns rare while the test looks; a high breaker threshold keeps cold starts allowed.
     */
    @RegisterExtension
    static final GatewayExtension slowInit = DemoWorkers.gateway("slow-init", """
            worker:
              process:
                env:
                  DEMO_READY_DELAY: 5s
            pool:
              init_timeout: 500ms
              backoff_initial: 10s
              backoff_max: 1m
              breaker_failures: 100
            """);

    /** A single worker at most. */
    @RegisterExtension
    static final GatewayExtension tiny = DemoWorkers.gateway("tiny", """
            sessions:
              retry_after: 3s
            pool:
              max_workers: 1
            """);

    /** Two warm workers, replaced when the worker configuration changes. */
    @RegisterExtension
    static final GatewayExtension reconfigured = DemoWorkers.gateway("reconfigured", """
            pool:
              min_idle: 2
              spawn_interval: 50ms
            """);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ECHO = "{\"text\":\"hi\",\"deltas\":1,\"delay_ms\":0}";

    @Test
    void aWarmWorkerServesAtOnceAndAColdStartQueuesUntilReady() {
        awaitPool(slowStart, "one warm worker", s -> s.warm() == 1);
        Set<Long> warm = DemoWorkers.running("slow-start");
        assertEquals(1, warm.size(), warm::toString);

        try (SessionClient hit = SessionClient.open(slowStart, "warm-hit");
                SessionClient queued = SessionClient.open(slowStart, "cold-queued");
                SessionClient waiting = SessionClient.open(slowStart, "cold-waiting")) {
            // The warm worker serves the first session straight away ...
            assertEquals(SessionState.IDLE, hit.ready.state());
            assertEquals(0, hit.ready.lastSeq());
            assertEquals(warm, Set.of(workerPid(slowStart, hit.sessionId())));

            // ... the next two find the pool empty (its refill needs 1.5 s) and wait for cold workers.
            assertEquals(SessionState.PREPARING, queued.ready.state());
            assertEquals(1, queued.ready.lastSeq());
            assertEquals(List.of("status:preparing"), historyTags(List.of(queued.next())));
            queued.sendAccepted("early", ECHO, 1);
            assertEquals(SessionState.PREPARING, waiting.ready.state());
            assertEquals(List.of("status:preparing"), historyTags(List.of(waiting.next())));

            assertEquals(
                    List.of("status:processing", "event:delta:early", "event:result:early", "status:idle"),
                    historyTags(queued.untilTag("status:idle")));
            assertEquals(List.of("status:idle"), historyTags(waiting.untilTag("status:idle")));

            Set<Long> pids = new TreeSet<>(List.of(
                    workerPid(slowStart, hit.sessionId()),
                    workerPid(slowStart, queued.sessionId()),
                    workerPid(slowStart, waiting.sessionId())));
            assertEquals(3, pids.size(), "three sessions, three workers: " + pids);
            pids.forEach(pid -> assertTrue(ProcessTree.running(pid), "worker " + pid));
            hit.roundTrip("m1", ECHO);
            waiting.roundTrip("m1", ECHO);
        }
    }

    @Test
    void workersNotReadyWithinTheInitTimeoutAreKilledAndTheSessionFails() {
        Set<Long> seen = new TreeSet<>();
        // The background refill fails first: its worker is killed, the pool backs off. It starts with
        // the gateway, before this test runs, so it may be gone before the test looks for it; the
        // session's cold worker below starts after the test does and is seen for certain.
        PoolStatus failed = Poll.until(
                "a failed spawn",
                () -> {
                    seen.addAll(DemoWorkers.running("slow-init"));
                    return pool(slowInit).status();
                },
                status -> status.spawnFailures() >= 1);
        assertEquals(0, failed.warm());
        assertTrue(failed.consecutiveFailures() >= 1, failed::toString);
        assertTrue(failed.lastFailure().contains("pool.init_timeout"), failed::toString);
        Poll.until(
                "spawns that timed out are killed",
                () -> seen,
                pids -> pids.stream().noneMatch(ProcessTree::running));

        String subject = "init-timeout";
        String sessionId;
        long failuresBefore = pool(slowInit).status().spawnFailures();
        try (SessionClient c = SessionClient.open(slowInit, subject)) {
            sessionId = c.sessionId();
            assertEquals(SessionState.PREPARING, c.ready.state());
            // Its cold worker starts ...
            Set<Long> before = Set.copyOf(seen);
            Poll.until("the session's cold worker runs", () -> {
                seen.addAll(DemoWorkers.running("slow-init"));
                return !before.containsAll(seen);
            });
            // ... and is given up after the init timeout: the session ends.
            assertEquals(
                    List.of("status:preparing", "status:ended:worker_failed"),
                    historyTags(c.untilTag("status:ended:worker_failed")));
            assertEquals(4011, c.ws.awaitCloseCode());
        }
        assertTrue(pool(slowInit).status().spawnFailures() > failuresBefore);
        Poll.until("no worker of this gateway is left, nor a working directory", () -> {
            seen.addAll(DemoWorkers.running("slow-init"));
            return seen.stream().noneMatch(ProcessTree::running)
                    && DemoWorkers.workDirs("slow-init").isEmpty();
        });
        ServerMessage.ErrorFrame expired = SessionClient.resumeEnded(slowInit, subject, sessionId);
        assertEquals(ErrorCode.SESSION_EXPIRED, expired.code());
        assertEquals("worker_failed", expired.reason());
    }

    @Test
    void atMaxWorkersUpgradesAreRefusedUntilAWorkerIsFree() throws IOException {
        awaitPool(tiny, "one warm worker", s -> s.warm() == 1);
        String sessionId;
        long pid;
        try (SessionClient holder = SessionClient.openIdle(tiny, "tiny-holder")) {
            sessionId = holder.sessionId();
            pid = workerPid(tiny, sessionId);

            RawHttp.Response refused = RawHttp.upgrade(
                    tiny.address(), "/ws", Map.of("Authorization", "Bearer " + tiny.token("tiny-other")));
            assertEquals(503, refused.status(), refused::toString);
            JsonNode body = JSON.readTree(refused.body());
            assertEquals("at_capacity", body.path("error").asText(), refused::body);
            assertEquals("3", refused.header("retry-after"), refused::toString);

            PoolStatus status = pool(tiny).status();
            assertEquals(1, status.live(), status::toString);
            assertEquals(0, status.warm() + status.starting(), status::toString);
            assertEquals(Set.of(pid), DemoWorkers.running("tiny"));

            tiny.server().registry().get(sessionId).orElseThrow().end(EndReason.SHUTDOWN);
            assertEquals(List.of("status:ended:shutdown"), historyTags(holder.untilTag("status:ended:shutdown")));
            assertEquals(4011, holder.ws.awaitCloseCode());
        }
        Poll.until("the ended session's worker " + pid + " is gone", () -> !ProcessTree.running(pid));
        awaitPool(tiny, "a warm worker again", s -> s.warm() == 1);
        try (SessionClient next = SessionClient.open(tiny, "tiny-other")) {
            assertEquals(SessionState.IDLE, next.ready.state());
            next.roundTrip("m1", ECHO);
        }
    }

    @Test
    void aConfigChangeReplacesIdleWorkersAndLeavesSessionsTheirs() {
        try (SessionClient before = SessionClient.openIdle(reconfigured, "before-change")) {
            long kept = workerPid(reconfigured, before.sessionId());
            awaitPool(reconfigured, "two warm workers", s -> s.warm() == 2 && s.starting() == 0);
            Set<Long> oldIdle = idle("reconfigured", kept);
            assertEquals(2, oldIdle.size(), oldIdle::toString);

            ProcessWorkerConfig current = reconfigured.config().worker().process();
            Map<String, String> env = new TreeMap<>(current.env());
            env.put("IT_GENERATION", "2");
            reconfigured
                    .server()
                    .applyWorkerConfig(new ProcessWorkerConfig(
                            current.command(),
                            current.envAllow(),
                            env,
                            current.workRoot(),
                            current.maxLineBytes(),
                            current.maxPendingEvents(),
                            current.stopGrace(),
                            current.killGrace(),
                            current.maxCheckpointBytes()));

            Poll.until("the old idle workers " + oldIdle + " are replaced by two new warm ones", () -> {
                PoolStatus s = pool(reconfigured).status();
                Set<Long> idle = idle("reconfigured", kept);
                return oldIdle.stream().noneMatch(ProcessTree::running)
                        && s.warm() == 2
                        && s.starting() == 0
                        && idle.size() == 2
                        && idle.stream().noneMatch(oldIdle::contains);
            });

            try (SessionClient after = SessionClient.openIdle(reconfigured, "after-change")) {
                assertFalse(oldIdle.contains(workerPid(reconfigured, after.sessionId())));
                assertEquals("2", env(after).path("IT_GENERATION").asText(null));
            }
            assertEquals(kept, workerPid(reconfigured, before.sessionId()), "the session keeps its worker");
            assertTrue(ProcessTree.running(kept));
            assertNull(env(before).get("IT_GENERATION"), "a worker started before the change keeps its environment");
        }
    }

    @Test
    void closingTheGatewayStopsEveryWorker() throws Exception {
        String marker = "shutdown";
        GatewayConfig config = ConfigLoader.parse(DemoWorkers.config(marker, """
                pool:
                  min_idle: 2
                  spawn_interval: 50ms
                """), Map.of());
        GatewayServer server = new GatewayServer(config, Clock.systemUTC());
        List<SessionClient> clients = new ArrayList<>();
        Set<Long> pids = new TreeSet<>();
        try {
            InetSocketAddress address = server.start();
            URI uri = URI.create("ws://127.0.0.1:" + address.getPort() + "/ws");
            TokenMinter minter = new TokenMinter(
                    config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
            for (String subject : List.of("idle", "busy", "stubborn")) {
                SessionClient c = SessionClient.open(uri, minter.mint(subject, Duration.ofHours(1), Map.of()));
                clients.add(c);
                if (c.ready.state() == SessionState.PREPARING) {
                    c.untilTag("status:idle");
                }
            }
            clients.get(1).sendAccepted("hang", "{\"text\":\"x\",\"deltas\":1,\"hang\":true}", 0);
            clients.get(1).untilTag("event:delta:hang");
            List<ServerMessage> armed = clients.get(2)
                    .roundTrip("arm", "{\"spawn_child\":true,\"ignore_shutdown\":true,\"deltas\":1,\"delay_ms\":0}");
            pids.add(SessionClient.event(armed, "child").path("pid").asLong());
            Poll.until("two warm workers besides the sessions'", () -> {
                PoolStatus s = server.pool().orElseThrow().status();
                return s.warm() == 2 && s.starting() == 0;
            });
            pids.addAll(DemoWorkers.running(marker));
            assertEquals(6, pids.size(), "3 session workers, 2 warm ones, 1 child: " + pids);
        } finally {
            server.close();
        }
        // close() returned: nothing of the workers runs any more, nothing is left on disk.
        List<Long> running = pids.stream().filter(ProcessTree::running).toList();
        assertEquals(List.of(), running, "still running after close()");
        assertEquals(Set.of(), DemoWorkers.running(marker));
        assertEquals(List.of(), DemoWorkers.workDirs(marker));
        for (SessionClient c : clients) {
            List<ServerMessage> rest = c.untilTag("status:ended:shutdown");
            assertTrue(
                    historyTags(rest).stream()
                            .allMatch(t -> !t.startsWith("status:") || t.equals("status:ended:shutdown")),
                    () -> tags(rest).toString());
            assertEquals(4011, c.ws.awaitCloseCode());
            c.close();
        }
    }

    // ---- helpers ----

    private static WorkerPool pool(GatewayExtension gateway) {
        return gateway.server().pool().orElseThrow();
    }

    private static PoolStatus awaitPool(GatewayExtension gateway, String what, Predicate<PoolStatus> condition) {
        return Poll.until(what, () -> pool(gateway).status(), condition);
    }

    /** Running workers of {@code marker}'s gateway other than {@code inSession}. */
    private static Set<Long> idle(String marker, long inSession) {
        Set<Long> pids = new TreeSet<>(DemoWorkers.running(marker));
        pids.remove(inSession);
        return pids;
    }

    /** The environment the session's worker runs with (the demo worker's {@code env} command). */
    private static JsonNode env(SessionClient c) {
        String id = "env-" + System.nanoTime();
        List<ServerMessage> turn = c.roundTrip(id, "{\"env\":true,\"deltas\":0}");
        return SessionClient.event(turn, "env").path("vars");
    }
}
