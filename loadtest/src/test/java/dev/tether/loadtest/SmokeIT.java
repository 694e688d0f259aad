package dev.tether.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @BeforeAll
    static void gatewayIsBuilt() {
        assertTrue(Files.isRegularFile(GATEWAY_JAR), GATEWAY_JAR + " is missing: the smoke tests launch the packaged gateway;"
                + " run them with the gateway module, e.g. mvn -pl gateway,loadtest -am verify");
    }

    private static JsonNode run(Path out, String scenario, String config, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(scenario, "--launch-gateway",
                "--gateway-jar", GATEWAY_JAR.toString(), "--gateway-config", config,
                "--out", out.toString(), "--no-progress", "--seed", "7"));
        args.addAll(List.of(extra));
        int exit = Main.run(args.toArray(String[]::new));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(0, exit, "exit code; report:\n" + Files.readString(out.resolve("report.txt")));
        assertTrue(Files.size(out.resolve("report.txt")) > 0);
        assertTrue(Files.readString(out.resolve("report.html")).contains("<svg"), "report.html has its plots");
        assertTrue(report.path("audit").path("passed").asBoolean(), report.path("audit").toString());
        assertEquals(0, report.path("audit").path("violations").size());
        assertEquals(0, report.path("errors").size(), report.path("errors").toString());
        assertEquals(scenario, report.path("scenario").asText());
        assertTrue(report.path("latency_ms").path("round_trip").path("count").asLong() > 0);
        assertTrue(report.path("gateway").path("samples").size() > 0, "the launched gateway was sampled");
        return report;
    }

    @Test
    void steady(@TempDir Path out) throws Exception {
        JsonNode report = run(out, "steady", ROOT.resolve("config/bench/echo.yaml").toString(),
                "--sessions", "5", "--rate", "100", "--duration", "4s", "--warmup", "1s");
        assertEquals(5, report.path("audit").path("sessions").asInt());
        assertTrue(report.path("timeline").size() >= 4);
        assertEquals(0, report.path("audit").path("lost").asLong());
    }

    @Test
    void chaosCutsCleanlyAndAbruptlyAndResumesWithoutLoss(@TempDir Path out) throws Exception {
        JsonNode report = run(out, "chaos", ROOT.resolve("config/bench/echo.yaml").toString(),
                "--sessions", "5", "--rate", "100", "--duration", "5s", "--warmup", "1s", "--cut-interval", "1s");
        JsonNode chaos = report.path("chaos");
        assertTrue(chaos.path("cuts_clean").asLong() > 0, chaos.toString());
        assertTrue(chaos.path("cuts_abrupt").asLong() > 0, chaos.toString());
        assertTrue(chaos.path("resumes").asLong() > 0, chaos.toString());
        assertEquals(0, report.path("audit").path("lost").asLong());
        assertEquals(0, report.path("audit").path("duplicates_delivered").asLong());
    }

    @Test
    void chaosWithWorkerKillsAccountsForTheLostTurns(@TempDir Path out, @TempDir Path dir) throws Exception {
        Path config = dir.resolve("demo-small.yaml");
        Files.writeString(config, """
                server:
                  host: 127.0.0.1
                  port: 0
                worker:
                  kind: process
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
                abuse:
                  connections_per_second: 1000
                  connection_burst: 1000
                  messages_per_second: 1000
                  message_burst: 1000
                reload:
                  watch: false
                admin:
                  enabled: false
                """);
        JsonNode report = run(out, "chaos", config.toString(), "--sessions", "3", "--rate", "30", "--duration", "5s",
                "--warmup", "1s", "--cut-interval", "2s", "--kill-workers", "0.1");
        assertTrue(report.path("chaos").path("worker_kills").asLong() > 0, report.path("chaos").toString());
        assertTrue(report.path("audit").path("crashed_turns").asLong() > 0, report.path("audit").toString());
    }
}
