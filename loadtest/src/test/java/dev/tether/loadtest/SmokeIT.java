package dev.tether.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.gateway.GatewayProcess;
import dev.tether.loadtest.gateway.PrometheusText;
import dev.tether.testkit.Poll;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short runs of the real tool against a real gateway process ({@code gateway/target/gateway.jar},
 * which the reactor packages before this module's tests): the audit must pass and the report
 * files must be written and parse. Sizes are small and nothing about timing is asserted.
 */
class SmokeIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path GATEWAY_JAR = ROOT.resolve("gateway/target/gateway.jar");
    /** The HMAC secret of the gateway this test launches itself (and of the tokens minted for it). */
    private static final String SECRET = "smoke-it-secret-0123456789abcdef0123456789";

    @BeforeAll
    static void gatewayIsBuilt() {
        assertTrue(
                Files.isRegularFile(GATEWAY_JAR),
                GATEWAY_JAR + " is missing: the smoke tests launch the packaged gateway;"
                        + " run them with the gateway module, e.g. mvn -pl gateway,loadtest -am verify");
    }

    private static JsonNode run(Path out, String scenario, String config, String... extra) throws Exception {
        List<String> args = new ArrayList<>(
                List.of("--launch-gateway", "--gateway-jar", GATEWAY_JAR.toString(), "--gateway-config", config));
        args.addAll(List.of(extra));
        JsonNode report = runAgainst(out, scenario, args.toArray(String[]::new));
        assertTrue(report.path("gateway").path("samples").size() > 0, "the launched gateway was sampled");
        return report;
    }

    /** The words of a command line ({@code "--sessions 5 --rate 100"}): the options they are. */
    private static String[] options(String line) {
        return line.split(" ", -1);
    }

    /** Runs {@code scenario} with {@code extra} options; checks the exit code, the audit and the report files. */
    private static JsonNode runAgainst(Path out, String scenario, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(scenario, "--out", out.toString(), "--no-progress", "--seed", "7"));
        args.addAll(List.of(extra));
        int exit = Main.run(args.toArray(String[]::new));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(0, exit, "exit code; report:\n" + Files.readString(out.resolve("report.txt")));
        assertTrue(Files.size(out.resolve("report.txt")) > 0);
        assertTrue(Files.readString(out.resolve("report.html")).contains("<svg"), "report.html has its plots");
        assertTrue(
                report.path("audit").path("passed").asBoolean(),
                report.path("audit").toString());
        assertEquals(0, report.path("audit").path("violations").size());
        assertEquals(0, report.path("errors").size(), report.path("errors").toString());
        assertEquals(scenario, report.path("scenario").asText());
        assertTrue(report.path("latency_ms").path("round_trip").path("count").asLong() > 0);
        return report;
    }

    @Test
    void steady(@TempDir Path out) throws Exception {
        JsonNode report = run(
                out,
                "steady",
                ROOT.resolve("config/bench/echo.yaml").toString(),
                options("--sessions 5 --rate 100 --duration 4s --warmup 1s"));
        assertEquals(5, report.path("audit").path("sessions").asInt());
        assertTrue(report.path("timeline").size() >= 4);
        assertEquals(0, report.path("audit").path("lost").asLong());
        JsonNode end = report.path("sessions_end");
        assertEquals(false, end.path("left").asBoolean(), end.toString());
        assertEquals(5, end.path("ended").asInt(), end.toString());
        assertEquals(0, end.path("failed").asInt(), end.toString());
        assertEquals(
                0,
                end.path("gateway_live_sessions").asInt(-1),
                "the launched gateway's /metrics before it was stopped: " + end);
        assertTrue(report.path("gateway")
                        .path("memory")
                        .path("total_rss_bytes")
                        .path("peak")
                        .asLong()
                > 0);
        // The client warmed up with 3 sessions of its own, which neither it nor the gateway's figure counts.
        assertEquals(
                3,
                report.path("client_warmup").path("ready").asInt(),
                report.path("client_warmup").toString());
        assertEquals(
                5, report.path("latency_ms").path("ready_warm").path("count").asInt());
        assertEquals(
                5,
                report.path("gateway_session_start_ms")
                        .path("warm")
                        .path("count")
                        .asInt(),
                report.path("gateway_session_start_ms").toString());
    }

    /**
     * Against a gateway of its own with process workers, watched through its /metrics: after a run
     * every session the tool opened is gone, and so is its worker; with --leave-sessions they stay,
     * detached, for a resume.
     */
    @Test
    void aRunEndsEverySessionItOpenedUnlessToldToLeaveThem(@TempDir Path out, @TempDir Path dir) throws Exception {
        Path config = TestGatewayConfig.write(dir.resolve("demo-small.yaml"), DEMO_SMALL);
        // A secret of the test's own: the gateway refuses the public development one outside development.
        GatewayProcess gateway = GatewayProcess.launch(GatewayProcess.Launch.of(GATEWAY_JAR, config)
                .withEnv(Map.of("TETHER_JWT_SECRET", SECRET))
                .withLogFile(dir.resolve("gateway.log"))
                .withAwaitReady(true)
                .withStartTimeout(Duration.ofSeconds(90)));
        try {
            assertTrue(gateway.awaitWarm(3, Duration.ofSeconds(90)), "the pool's 3 warm workers");
            String url = gateway.wsUri().toString();

            JsonNode ended = runAgainst(
                    out.resolve("ended"),
                    "steady",
                    options("--url " + url + " --secret " + SECRET
                            + " --sessions 3 --rate 30 --duration 2s --warmup 0s"));
            assertEquals(
                    3,
                    ended.path("sessions_end").path("ended").asInt(),
                    ended.path("sessions_end").toString());
            assertEquals(
                    0,
                    ended.path("sessions_end").path("failed").asInt(),
                    ended.path("sessions_end").toString());
            assertEquals(
                    3,
                    ended.path("close_codes").path("1000").asInt(),
                    ended.path("close_codes").toString());
            awaitMetric(
                    gateway, "no live session", m -> m.sum("tether_sessions").orElse(-1) == 0);
            awaitMetric(gateway, "no worker in a session or being stopped", m -> workersOutsideThePool(m) == 0);
            double clientEnds = gateway.metrics()
                    .orElseThrow()
                    .value("tether_sessions_ended_total", "reason", "client_end")
                    .orElse(0);
            assertEquals(
                    3 + ended.path("client_warmup").path("ready").asInt(),
                    clientEnds,
                    "the run's and its warm-up's sessions");

            JsonNode left = runAgainst(
                    out.resolve("left"),
                    "steady",
                    options("--url " + url + " --secret " + SECRET
                            + " --sessions 3 --rate 30 --duration 2s --warmup 0s --leave-sessions"));
            assertTrue(
                    left.path("sessions_end").path("left").asBoolean(),
                    left.path("sessions_end").toString());
            awaitMetric(
                    gateway,
                    "the 3 sessions left, detached, with their workers",
                    m -> m.sum("tether_sessions").orElse(-1) == 3
                            && m.sum("tether_sessions_detached").orElse(-1) == 3
                            && workersOutsideThePool(m) == 3);
            assertEquals(
                    clientEnds + left.path("client_warmup").path("ready").asInt(),
                    gateway.metrics()
                            .orElseThrow()
                            .value("tether_sessions_ended_total", "reason", "client_end")
                            .orElse(0),
                    "only the warm-up's sessions ended");
        } finally {
            gateway.close();
        }
    }

    /** Workers not exited that are neither warm nor starting: those in sessions and those being stopped. */
    private static double workersOutsideThePool(PrometheusText metrics) {
        return metrics.value("tether_pool_workers", "state", "live").orElse(-1)
                - metrics.value("tether_pool_workers", "state", "warm").orElse(0)
                - metrics.value("tether_pool_workers", "state", "starting").orElse(0);
    }

    private static void awaitMetric(GatewayProcess gateway, String what, Predicate<PrometheusText> condition) {
        Poll.until(
                what,
                Duration.ofSeconds(30),
                () -> gateway.metrics().map(Gauges::new),
                scrape -> scrape.isPresent() && condition.test(scrape.get().metrics()));
    }

    /** A scrape of /metrics that shows, when a wait fails, the gauges these waits are about. */
    private record Gauges(PrometheusText metrics) {
        @Override
        public String toString() {
            return metrics.samples("tether_sessions", l -> true) + " "
                    + metrics.samples("tether_pool_workers", l -> true);
        }
    }

    @Test
    void chaosCutsCleanlyAndAbruptlyAndResumesWithoutLoss(@TempDir Path out) throws Exception {
        JsonNode report = run(
                out,
                "chaos",
                ROOT.resolve("config/bench/echo.yaml").toString(),
                options("--sessions 5 --rate 100 --duration 5s --warmup 1s --cut-interval 1s"));
        JsonNode chaos = report.path("chaos");
        assertTrue(chaos.path("cuts_clean").asLong() > 0, chaos.toString());
        assertTrue(chaos.path("cuts_abrupt").asLong() > 0, chaos.toString());
        assertTrue(chaos.path("resumes").asLong() > 0, chaos.toString());
        assertEquals(0, report.path("audit").path("lost").asLong());
        assertEquals(0, report.path("audit").path("duplicates_delivered").asLong());
    }

    /**
     * A short harsh run with every disruption the chaos scenario knows, against its own config
     * (config/bench/chaos.yaml: a 6 s reconnect window, 1 s / 4 s heartbeats): half-open connections,
     * expiries, races, cuts in handshakes and replays, resumes below last_seq, resends.
     */
    @Test
    void harshChaosPassesTheAudit(@TempDir Path out) throws Exception {
        JsonNode report = run(
                out,
                "chaos",
                ROOT.resolve("config/bench/chaos.yaml").toString(),
                options("--sessions 5 --rate 50 --duration 10s --warmup 1s --cut-interval 1s"
                        + " --half-open-ratio 0.15 --expire-ratio 0.1 --race-ratio 0.2 --handshake-cut-ratio 0.2"
                        + " --replay-cut-ratio 0.2 --resend-ratio 0.2 --fresh-resend-ratio 0.1"));
        JsonNode chaos = report.path("chaos");
        assertTrue(chaos.path("cuts").asLong() > 0 && chaos.path("resumes").asLong() > 0, chaos.toString());
        assertTrue(chaos.path("events_replayed_new").asLong() > 0, "events crossed the cuts: " + chaos);
        assertTrue(chaos.path("events_replayed_seen").asLong() > 0, "replays were compared: " + chaos);
        assertTrue(
                report.path("audit").path("deltas_checked").asLong() > 0,
                report.path("audit").toString());
        assertEquals(0, report.path("audit").path("lost").asLong());
    }

    @Test
    void chaosWithWorkerKillsAccountsForTheLostTurns(@TempDir Path out, @TempDir Path dir) throws Exception {
        Path config = TestGatewayConfig.write(dir.resolve("demo-small.yaml"), DEMO_SMALL);
        // --await-warm: the pool is full when the client warms up, so its refill afterwards is what is checked.
        JsonNode report = run(
                out,
                "chaos",
                config.toString(),
                options("--sessions 3 --rate 30 --duration 5s --warmup 1s --cut-interval 2s"
                        + " --kill-workers 0.1 --await-warm 3"));
        assertTrue(
                report.path("chaos").path("worker_kills").asLong() > 0,
                report.path("chaos").toString());
        assertTrue(
                report.path("audit").path("crashed_turns").asLong() > 0,
                report.path("audit").toString());
        assertTrue(
                report.path("client_warmup").path("pool_refilled").asBoolean(),
                "the pool was warm again before the run: " + report.path("client_warmup"));
    }

    /**
     * The hibernate scenario at a tiny scale (contract 8.9): of 4 sessions, the first stays active and
     * the 3 idle ones must each be put to sleep after their first turn (one that is not is the error
     * {@code not_hibernated}, and the run fails), and 2 of them are woken, each wake-up measured
     * from its message to its first event apart from the active session's first events.
     */
    @Test
    void idleSessionsFallAsleepAndWakeUpsAreMeasuredApartFromWarmTurns(@TempDir Path out, @TempDir Path dir)
            throws Exception {
        Path config = TestGatewayConfig.write(
                dir.resolve("demo-hibernate.yaml"),
                DEMO_SMALL.replace("limits:\n", "limits:\n  hibernate_after: 1s\n"));
        JsonNode report = run(
                out,
                "hibernate",
                config.toString(),
                options("--sessions 4 --connect-rate 20 --active-ratio 0.25 --active-interval 200ms"
                        + " --wakes 2 --wake-rate 10 --hold 1s --sleep-timeout 60s"));
        JsonNode h = report.path("hibernate");
        assertTrue(h.path("hibernation").asBoolean(), h.toString());
        assertEquals(4, h.path("sessions_opened").asInt(), h.toString());
        assertEquals(1, h.path("active").asInt(), h.toString());
        assertEquals(3, h.path("idle").asInt(), h.toString());
        assertEquals(3, h.path("asleep_at_reading").asInt(), "every idle session fell asleep: " + h);
        assertEquals(2, h.path("woken").asInt(), h.toString());
        JsonNode wake = report.path("latency_ms").path("wake_first_event");
        assertEquals(2, wake.path("count").asInt(), "each wake-up measured: " + wake);
        assertTrue(wake.path("p50").asDouble() > 0, wake.toString());
        assertTrue(
                report.path("latency_ms").path("first_event").path("count").asInt() > 0,
                "the active session's first events are the warm figure");
        assertEquals(2, h.path("wake_vs_warm").path("wake_count").asInt(), h.toString());
        assertEquals(
                2,
                h.path("gateway_wake_to_worker_ready_ms").path("count").asInt(),
                "the gateway's own wake-up timer counted the same wake-ups: " + h);
        assertTrue(
                report.path("counters").path("hibernated").asInt() >= 3,
                report.path("counters").toString());
        assertTrue(h.path("worker_processes_with").asInt() >= 0, h.toString());
    }

    /** A small pool of demo workers (subprocesses) that start at once. */
    private static final String DEMO_SMALL = """
                worker:
                  process:
                    env:
                      DEMO_READY_DELAY: 0s
                pool:
                  min_idle: 3
                  max_workers: 20
                  spawn_interval: 50ms
                limits:
                  max_restarts: 1000
                  restart_window: 1m
                """;
}
