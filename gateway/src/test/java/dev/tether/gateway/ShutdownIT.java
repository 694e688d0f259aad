package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shutdown leaves nothing (issue 19, item 2): whichever way the gateway goes (SIGTERM drain,
 * drain timeout, a second SIGTERM, SIGINT, the admin API, a failed start-up), its process exits
 * only after every process it started is gone and every working directory is removed, and says so
 * in one line with counts.
 *
 * <p>Each test runs the gateway as its own JVM ({@link GatewayProcess}) with real demo workers, made
 * hard to stop: a worker that ignores {@code shutdown} and SIGTERM, with a child that ignores
 * SIGTERM. After the gateway has exited, the test looks at the machine: every process carrying
 * the test's marker in its environment (workers and their children, wherever they were
 * re-parented), and the work root.
 */
class ShutdownIT {

    /** The gateway's last word on its workers (GatewayServer.close). */
    private static final Pattern SUMMARY = Pattern.compile(
            "shutdown: workers stopped: (\\d+) \\(needed SIGTERM: (\\d+), "
                    + "needed SIGKILL: (\\d+)\\), leftovers killed in the final sweep: (\\d+), work directories removed: (\\d+)");
    /** Turn data that makes a worker hard to stop: only SIGKILL ends it, and its child. */
    private static final String STUBBORN = "\"ignore_shutdown\":true,\"spawn_stubborn_child\":true";
    /**
     * Graces of every test: short, but longer than a drain.timeout of 200 ms, so a worker whose
     * stop began just before the gateway was told to go is still being stopped when it goes.
     */
    private static final String GRACES = """
            worker:
              process:
                stop_grace: 800ms
                kill_grace: 300ms
            """;

    /** The config decides the ports and the secret, whatever this shell's environment says. */
    private static final Map<String, String> ENV = envWithout("TETHER_JWT_SECRET", "TETHER_PORT", "TETHER_ADMIN_PORT");

    private static final String SECRET = "shutdown-it-secret-0123456789abcdef";

    @TempDir
    Path dir;

    private String marker;
    private GatewayProcess gateway;

    @BeforeEach
    void marker(TestInfo test) {
        marker = "shutdown-" + test.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (gateway != null) {
            gateway.close();
        }
        // What a failing gateway left: killed here, so that it does not outlive the test.
        DemoWorkers.anywhere(marker).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        Path root = DemoWorkers.workRoot(marker);
        if (Files.exists(root)) {
            try (Stream<Path> paths = Files.walk(root)) {
                for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    @Test
    void sigtermJustAfterASessionEndedStillStopsItsWorker() throws Exception {
        start("");
        try (SessionClient ended = SessionClient.openIdle(uri(), token("ended"))) {
            stubbornIdle(ended, "s1");
            endedJustBefore(ended);
            gateway.signal("TERM");
        }
        Summary summary = assertLeftNothing(0);
        assertLogged("drain finishing: no turn is running");
        assertTrue(summary.sigkill() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    @Test
    void sigkillOfTheGatewayStillEndsEveryWorkerAndItsChildren() throws Exception {
        start("");
        try (SessionClient running = SessionClient.openIdle(uri(), token("orphaned"))) {
            stubbornHang(running, "k1");
            Poll.until(
                    "the worker and its child run",
                    () -> DemoWorkers.anywhere(marker).size() >= 2);
            gateway.signal("KILL"); // no drain, no shutdown hook: only the spawner is left to clean up
            assertEquals(137, gateway.awaitExit(), gateway::log);
        }
        Poll.until("nothing of the gateway's workers runs", () -> DemoWorkers.anywhere(marker), Set::isEmpty);
    }

    @Test
    void drainTimeoutWithATurnRunningStopsItsWorker() throws Exception {
        start("""
                drain:
                  timeout: 200ms
                """);
        try (SessionClient running = SessionClient.openIdle(uri(), token("running"))) {
            stubbornHang(running, "h1");
            gateway.signal("TERM");
            running.untilTag("status:ended:shutdown");
            assertEquals(1001, running.ws.awaitCloseCode());
        }
        Summary summary = assertLeftNothing(0);
        assertLogged("drain finishing: drain.timeout");
        assertTrue(summary.sigterm() >= 1 && summary.sigkill() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    @Test
    void secondSigtermSkipsTheGracesButStillWaitsForTheWorkers() throws Exception {
        // Graces far longer than the test may take: only the second SIGTERM can end the stop in time.
        start("""
                worker:
                  process:
                    stop_grace: 10m
                    kill_grace: 10m
                """);
        try (SessionClient c = SessionClient.openIdle(uri(), token("twice"))) {
            stubbornIdle(c, "s1");
            gateway.signal("TERM");
            c.untilTag("status:ended:shutdown");
            gateway.awaitLogged("demo worker: ignoring shutdown"); // its stop has begun
            gateway.signal("TERM");
        }
        Summary summary = assertLeftNothing(0);
        assertLogged("skipping the workers' graces");
        assertTrue(summary.sigkill() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    @Test
    void sigintStopsEveryWorkerBeforeTheJvmExits() throws Exception {
        start("");
        try (SessionClient running = SessionClient.openIdle(uri(), token("running"));
                SessionClient ended = SessionClient.openIdle(uri(), token("ended"))) {
            hang(running, "h1");
            stubbornIdle(ended, "s1");
            endedJustBefore(ended);
            gateway.signal("INT");
            running.untilTag("status:ended:shutdown");
            assertEquals(4011, running.ws.awaitCloseCode());
        }
        Summary summary = assertLeftNothing(130); // 128 + SIGINT: the JVM's exit after its shutdown hooks
        assertTrue(summary.stopped() >= 2 && summary.sigkill() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    @Test
    void sigintStillLogsTheLastLinesWhenLogbackHasAShutdownHookOfItsOwn() throws Exception {
        // An operator's logback.xml (read from next to gateway.yaml) with Logback's own shutdown hook,
        // which stops every appender the moment the JVM begins to exit (its default delay is 0).
        Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <shutdownHook/>
                  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%level %logger{0} - %msg%n</pattern></encoder>
                  </appender>
                  <root level="INFO"><appender-ref ref="STDOUT"/></root>
                </configuration>
                """);
        start("");
        try (SessionClient ended = SessionClient.openIdle(uri(), token("ended"))) {
            stubbornIdle(ended, "s1");
            endedJustBefore(ended); // a stop that outlasts the JVM's first moments of exiting
            gateway.signal("INT");
        }
        assertLeftNothing(130);
        assertLogged("INFO GatewayServer - stopped");
    }

    @Test
    void adminDrainStopsEveryWorkerBeforeTheJvmExits() throws Exception {
        start("""
                drain:
                  timeout: 200ms
                """);
        try (SessionClient running = SessionClient.openIdle(uri(), token("running"));
                SessionClient ended = SessionClient.openIdle(uri(), token("ended"))) {
            hang(running, "h1");
            stubbornIdle(ended, "s1");
            endedJustBefore(ended);
            String admin = minter().mint("ops", Duration.ofMinutes(10), Map.of("roles", List.of("admin")));
            HttpResponse<String> answer = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create(
                                            "http://127.0.0.1:" + gateway.awaitAdminListening() + "/admin/drain"))
                                    .header("Authorization", "Bearer " + admin)
                                    .POST(HttpRequest.BodyPublishers.noBody())
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(202, answer.statusCode(), answer::body);
            running.untilTag("status:ended:shutdown");
        }
        Summary summary = assertLeftNothing(0);
        assertLogged("draining (admin API)");
        assertTrue(summary.stopped() >= 2 && summary.sigkill() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    @Test
    void failedStartUpStopsTheWorkersThePoolStarted() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // The pool starts (and warms) workers before the listener binds, and binding fails.
            start("""
                    server:
                      port: %d
                    pool:
                      min_idle: 2
                      require_warm_on_start: true
                    """.formatted(taken.getLocalPort()));
            Summary summary = assertLeftNothing(3);
            assertLogged("warm (1/2)");
            assertTrue(summary.stopped() >= 1, () -> summary + " in:\n" + gateway.log());
        }
    }

    @Test
    void failedWarmStartStopsTheStartingWorkers() throws Exception {
        // Workers that take an hour to get ready, and a start-up that waits a second for one.
        start("""
                worker:
                  process:
                    env:
                      DEMO_READY_DELAY: 60m
                pool:
                  require_warm_on_start: true
                  warm_start_timeout: 1s
                """);
        Summary summary = assertLeftNothing(3);
        assertLogged("pool.require_warm_on_start is true");
        assertTrue(summary.stopped() >= 1 && summary.sigterm() >= 1, () -> summary + " in:\n" + gateway.log());
    }

    // ---- helpers ----

    private static Map<String, String> envWithout(String... names) {
        Map<String, String> env = new HashMap<>();
        for (String name : names) {
            env.put(name, null);
        }
        return env;
    }

    /** The counts of the summary line. */
    private record Summary(int stopped, int sigterm, int sigkill, int swept, int removed) {}

    /** Starts a gateway of demo workers marked for this test, with {@link #GRACES} and {@code yaml} over them. */
    private void start(String yaml) throws IOException {
        String overlay = """
                auth:
                  hmac_secret: %s
                admin:
                  enabled: true
                  port: 0
                """.formatted(SECRET);
        Path file = Files.writeString(dir.resolve("gateway.yaml"), DemoWorkers.config(marker, GRACES + overlay + yaml));
        gateway = GatewayProcess.start(dir, ENV, "--config", file.toString());
    }

    private URI uri() {
        return URI.create("ws://127.0.0.1:" + gateway.awaitListening() + "/ws");
    }

    private static String token(String subject) {
        return minter().mint(subject, Duration.ofHours(1), Map.of());
    }

    private static TokenMinter minter() {
        return new TokenMinter(SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());
    }

    private void assertLogged(String text) {
        assertTrue(gateway.logged(text), () -> "no \"" + text + "\" in:\n" + gateway.log());
    }

    /** A turn that leaves the session's worker hard to stop; returns when it is over. */
    private static void stubbornIdle(SessionClient c, String id) {
        List<ServerMessage> turn = c.roundTrip(id, "{\"deltas\":0," + STUBBORN + "}");
        assertTrue(SessionClient.event(turn, "child").path("ignores_sigterm").asBoolean());
    }

    /** A turn that never ends on its own, in a worker that is hard to stop; returns once it runs. */
    private static void stubbornHang(SessionClient c, String id) {
        c.sendAccepted(id, "{\"deltas\":1,\"delay_ms\":0,\"hang\":true,\"ignore_interrupt\":true," + STUBBORN + "}", 0);
        c.untilTag("event:delta:" + id);
    }

    /** A turn that never ends on its own, in a worker that exits on {@code shutdown}; returns once it runs. */
    private static void hang(SessionClient c, String id) {
        c.sendAccepted(id, "{\"deltas\":1,\"delay_ms\":0,\"hang\":true}", 0);
        c.untilTag("event:delta:" + id);
    }

    /**
     * Ends the session ({@code end}) and returns once it has left the gateway's registry (its
     * {@code ended} line is logged after that), its worker's stop begun but far from over.
     */
    private void endedJustBefore(SessionClient c) {
        c.send(new ClientMessage.End());
        c.untilTag("status:ended:client_end");
        gateway.awaitLogged("ended: client_end");
    }

    /**
     * Waits for the gateway to exit with {@code status}, then checks that nothing it started runs,
     * that its work root is empty, and that its summary line is there, saying every worker stopped
     * on its own path (nothing for the final sweep) and every working directory was removed.
     */
    private Summary assertLeftNothing(int status) {
        assertEquals(status, gateway.awaitExit(), gateway::log);
        Set<Long> left = DemoWorkers.anywhere(marker);
        assertEquals(Set.of(), left, () -> "processes the gateway started, running after it exited:\n" + gateway.log());
        assertEquals(List.of(), DemoWorkers.workDirs(marker), () -> "working directories left:\n" + gateway.log());
        Matcher line = gateway.awaitLine(SUMMARY);
        Summary summary = new Summary(
                Integer.parseInt(line.group(1)),
                Integer.parseInt(line.group(2)),
                Integer.parseInt(line.group(3)),
                Integer.parseInt(line.group(4)),
                Integer.parseInt(line.group(5)));
        assertEquals(0, summary.swept(), () -> summary + "\n" + gateway.log());
        assertEquals(summary.stopped(), summary.removed(), () -> summary + "\n" + gateway.log());
        return summary;
    }
}
