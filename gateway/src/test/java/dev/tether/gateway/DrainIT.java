package dev.tether.gateway;

import static dev.tether.gateway.testing.GatewayExtension.runWith;
import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Probes and the graceful drain end to end: real gateways on loopback, driven over HTTP and
 * WebSocket, with real demo-worker subprocesses where workers matter. A drain is final, so every
 * test starts (and closes) a gateway of its own.
 */
class DrainIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Long enough for a drain that waits for a turn of a few hundred milliseconds, or for a timeout of a second. */
    private static final long DRAIN_WAIT_SECONDS = 20;

    // ---- probes ----

    @Test
    void healthAlwaysAndReadyUntilTheSessionLimitIsReached() throws Exception {
        runWith(GatewayExtension.withConfig("""
                sessions:
                  max_sessions: 1
                """), g -> {
            assertProbe(g, "/healthz", 200, "{\"status\":\"alive\"}");
            assertProbe(g, "/readyz", 200, "{\"status\":\"ready\"}");
            try (SessionClient c = SessionClient.openIdle(g, "capacity")) {
                assertProbe(g, "/readyz", 503, "{\"status\":\"not_ready\",\"reasons\":[\"at_capacity\"]}");
                assertProbe(g, "/healthz", 200, "{\"status\":\"alive\"}");
                g.server().registry().get(c.sessionId()).orElseThrow().end(EndReason.IDLE_TIMEOUT);
                c.untilTag("status:ended:idle_timeout");
            }
            Poll.until(
                    "ready again once the session ended",
                    () -> probe(g, "/readyz").status() == 200);
        });
    }

    @Test
    void notReadyWhileNoWorkerCanBeHad() throws Exception {
        // Every spawn fails at once; the first failure opens the breaker for an hour.
        runWith(DemoWorkers.gateway("drain-no-worker", """
                worker:
                  process:
                    command: ["/bin/sh", "-c", "exit 3"]
                pool:
                  min_idle: 1
                  breaker_failures: 1
                  breaker_cooldown: 1h
                """), g -> {
            Poll.until("readyz 503 no_worker_available", () -> probe(g, "/readyz"), readyz -> readyz.status() == 503);
            assertProbe(g, "/readyz", 503, "{\"status\":\"not_ready\",\"reasons\":[\"no_worker_available\"]}");
            assertProbe(g, "/healthz", 200, "{\"status\":\"alive\"}");
        });
    }

    // ---- drain ----

    @Test
    void drainDuringAStreamedTurnLetsItFinishRefusesTheRestAndLeavesNoWorker() throws Exception {
        String marker = "drain-turn";
        runWith(DemoWorkers.gateway(marker, """
                drain:
                  timeout: 30s
                  retry_after: 3s
                """), g -> {
            List<ServerMessage> seen = new ArrayList<>();
            long pid;
            CompletableFuture<Void> drained;
            try (SessionClient c = SessionClient.openIdle(g, "drainer")) {
                pid = workerPid(g, c.sessionId());
                c.sendAccepted("m1", "{\"text\":\"abcdefgh\",\"deltas\":8,\"delay_ms\":250}", 0);
                c.send("m2", "{\"text\":\"queued\",\"deltas\":1,\"delay_ms\":0}");
                seen.addAll(c.untilTag("event:delta:m1"));
                if (!tags(seen).contains("accepted:m2:1")) {
                    seen.addAll(c.untilTag("accepted:m2:1"));
                }

                drained = g.server().drain("test").toCompletableFuture();

                // At once, while the turn still streams: not ready, alive, and no new upgrade.
                assertProbe(g, "/readyz", 503, "{\"status\":\"not_ready\",\"reasons\":[\"draining\"]}");
                assertProbe(g, "/healthz", 200, "{\"status\":\"alive\"}");
                RawHttp.Response refused =
                        RawHttp.upgrade(g.address(), "/ws", Map.of("Authorization", "Bearer " + g.token("late")));
                assertEquals(503, refused.status(), refused::toString);
                assertEquals(
                        "shutting_down",
                        JSON.readTree(refused.body()).path("error").asText(),
                        refused::body);
                assertEquals("3", refused.header("retry-after"), refused::toString);
                RawHttp.Response resume = RawHttp.upgrade(
                        g.address(),
                        "/ws?session=" + c.sessionId() + "&last_seq=0",
                        Map.of("Authorization", "Bearer " + g.token("drainer")));
                assertEquals(503, resume.status(), resume::toString);

                List<ServerMessage> upToNotice = c.until(m -> m instanceof ServerMessage.ShuttingDown);
                seen.addAll(upToNotice);
                assertEquals(new ServerMessage.ShuttingDown(3), upToNotice.get(upToNotice.size() - 1));
                // A message after shutting_down is refused, not taken.
                c.send("m3", "{\"text\":\"late\",\"deltas\":1,\"delay_ms\":0}");
                List<ServerMessage> rest = c.untilTag("status:ended:shutdown");
                seen.addAll(rest);
                assertEquals(1001, c.ws.awaitCloseCode());

                assertEquals(
                        List.of("m2", "m3"),
                        shuttingDownErrors(seen),
                        () -> tags(seen).toString());
                assertTrue(
                        seen.stream().noneMatch(m -> m instanceof ServerMessage.Accepted a && a.id().equals("m3")),
                        () -> tags(seen).toString());
                List<String> history = historyTags(seen);
                assertEquals(
                        List.of("event:result:m1", "status:idle", "status:ended:shutdown"),
                        history.subList(history.size() - 3, history.size()),
                        history::toString);
                assertEquals(
                        8, history.stream().filter("event:delta:m1"::equals).count(), history::toString);
                assertTrue(history.stream().noneMatch(t -> t.contains(":m2") || t.contains(":m3")), history::toString);
                assertEquals("abcdefgh", resultText(seen, "m1"));
            }
            drained.get(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS);
            assertFalse(ProcessTree.running(pid), "the session's worker " + pid + " is gone");
            Poll.until("no worker of this gateway is left", () -> DemoWorkers.running(marker), Set::isEmpty);
            PoolStatus status = g.server().pool().orElseThrow().status();
            assertEquals(0, status.warm(), status::toString);
            assertTrue(status.closed(), status::toString);
            assertEquals(List.of(), DemoWorkers.workDirs(marker));
            assertTrue(g.server().closed().toCompletableFuture().isDone());
        });
    }

    @Test
    void drainTimeoutEndsAHangingTurn() throws Exception {
        String marker = "drain-timeout";
        runWith(DemoWorkers.gateway(marker, """
                drain:
                  timeout: 1s
                """), g -> {
            try (SessionClient c = SessionClient.openIdle(g, "hanger")) {
                long pid = workerPid(g, c.sessionId());
                c.sendAccepted("h1", "{\"deltas\":1,\"delay_ms\":0,\"hang\":true}", 0);
                c.untilTag("event:delta:h1");
                long started = System.nanoTime();
                CompletableFuture<Void> drained = g.server().drain("test").toCompletableFuture();
                List<ServerMessage> rest = c.untilTag("status:ended:shutdown");
                long waited = System.nanoTime() - started;
                assertEquals(1001, c.ws.awaitCloseCode());
                assertTrue(
                        rest.stream().anyMatch(m -> m instanceof ServerMessage.ShuttingDown),
                        () -> tags(rest).toString());
                assertEquals(List.of("status:ended:shutdown"), historyTags(rest), "no result: the turn was cut short");
                assertTrue(
                        waited >= Duration.ofSeconds(1).toNanos(),
                        "ended after " + waited + " ns, before drain.timeout");
                drained.get(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS);
                assertFalse(ProcessTree.running(pid), "the hanging worker " + pid + " is gone");
            }
            Poll.until("no worker of this gateway is left", () -> DemoWorkers.running(marker), Set::isEmpty);
        });
    }

    @Test
    void forceStopEndsADrainThatWouldWaitLong() throws Exception {
        runWith(DemoWorkers.gateway("drain-force", """
                drain:
                  timeout: 1h
                """), g -> {
            try (SessionClient c = SessionClient.openIdle(g, "forced")) {
                c.sendAccepted("h1", "{\"deltas\":1,\"delay_ms\":0,\"hang\":true}", 0);
                c.untilTag("event:delta:h1");
                CompletableFuture<Void> drained = g.server().drain("test").toCompletableFuture();
                assertEquals(new ServerMessage.ShuttingDown(5), c.expect(ServerMessage.ShuttingDown.class));
                assertFalse(drained.isDone());
                g.server().drain("again");

                long forcedAt = System.nanoTime();
                g.server().forceStop().toCompletableFuture().get(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS);
                drained.get(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS);
                System.out.println("forced stop took " + (System.nanoTime() - forcedAt) / 1_000_000 + " ms");
                assertEquals(List.of("status:ended:shutdown"), historyTags(c.untilTag("status:ended:shutdown")));
                assertEquals(1001, c.ws.awaitCloseCode());
            }
            Poll.until(
                    "no worker of this gateway is left",
                    () -> DemoWorkers.running("drain-force").isEmpty());
        });
    }

    @Test
    void idleGatewayDrainsAtOnceAndAnIdleSessionEndsWith1001() throws Exception {
        runWith(GatewayExtension.withDefaults(), g -> {
            try (SessionClient c = SessionClient.openIdle(g, "idle")) {
                c.roundTrip("m1", "{}");
                g.server().drain("test").toCompletableFuture().get(DRAIN_WAIT_SECONDS, TimeUnit.SECONDS);
                List<ServerMessage> rest = c.untilTag("status:ended:shutdown");
                assertEquals(List.of("ShuttingDown", "status:ended:shutdown"), tags(rest));
                assertEquals(1001, c.ws.awaitCloseCode());
            }
        });
    }

    // ---- helpers ----

    private static RawHttp.Response probe(GatewayExtension g, String path) {
        try {
            return RawHttp.send(
                    g.address(), "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void assertProbe(GatewayExtension g, String path, int status, String body) throws IOException {
        RawHttp.Response response = probe(g, path);
        assertEquals(status, response.status(), () -> path + ": " + response);
        assertEquals(JSON.readTree(body), JSON.readTree(response.body()), () -> path + ": " + response);
        assertEquals("application/json", response.header("content-type"));
    }

    private static long workerPid(GatewayExtension g, String sessionId) {
        return Poll.present(
                "session " + sessionId + " has a worker",
                () -> g.server()
                        .registry()
                        .get(sessionId)
                        .map(Session::currentWorker)
                        .flatMap(w -> w.pid().isPresent() ? Optional.of(w.pid().getAsLong()) : Optional.empty()));
    }

    private static List<String> shuttingDownErrors(List<ServerMessage> seen) {
        return seen.stream()
                .filter(m -> m instanceof ServerMessage.ErrorFrame e && e.code() == ErrorCode.SHUTTING_DOWN)
                .map(m -> ((ServerMessage.ErrorFrame) m).id())
                .toList();
    }

    private static String resultText(List<ServerMessage> seen, String id) {
        JsonNode result = seen.stream()
                .filter(m -> m instanceof ServerMessage.Event e
                        && "result".equals(e.event().path("type").asText())
                        && id.equals(e.event().path("id").asText()))
                .map(m -> ((ServerMessage.Event) m).event())
                .findFirst()
                .orElseThrow(() -> new AssertionError("no result for " + id + " in " + tags(seen)));
        return result.path("text").asText();
    }
}
