package dev.tether.loadtest.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.TestGatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code steady --compare websocketd} end to end, small: the packaged gateway with the C worker
 * (built by the run with this machine's compiler), Debian's websocketd with the same worker, and
 * the raw Netty echo, one after the other; the report holds all three with their ratios and each
 * side's frames per message. Nothing about timing is asserted.
 */
class CompareIT {

    @BeforeAll
    static void websocketdIsInstalled() {
        assertTrue(
                Files.isExecutable(Path.of("/usr/bin/websocketd")) || System.getenv("WEBSOCKETD") != null,
                "websocketd is missing: apt-get install websocketd (.ci/run installs it)");
    }

    @Test
    void runsTheSameWorkloadAgainstTetherWebsocketdAndTheRawEcho(@TempDir Path out, @TempDir Path dir)
            throws Exception {
        // A small pool instead of c-worker.yaml's 100 warm workers: the run builds its own worker, this config names
        // one built here.
        Path worker = CWorker.build(dir.resolve("bin"));
        Path config = TestGatewayConfig.processWorkers(dir.resolve("c-worker-small.yaml"), worker, 5, 20);
        int exit = TestGatewayConfig.runLaunched(
                config,
                "steady",
                "--compare",
                "websocketd",
                "--sessions",
                "3",
                "--rate",
                "60",
                "--duration",
                "2s",
                "--warmup",
                "1s",
                "--payload-bytes",
                "100",
                "--out",
                out.toString(),
                "--no-progress");
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(0, exit, Files.readString(out.resolve("report.txt")));
        assertTrue(Files.isExecutable(out.resolve("c-worker/tether-echo-worker")), "the run built the C worker");
        JsonNode targets = report.path("compare").path("targets");
        for (String name : new String[] {"tether", "websocketd", "baseline"}) {
            JsonNode t = targets.path(name);
            assertTrue(t.path("results_in_window").asLong() > 0, name + ": " + t);
            assertTrue(t.path("round_trip_ms").path("p50").asDouble() > 0, name + ": " + t);
            assertTrue(t.path("server_cpu_us_per_message").isNumber(), name + ": " + t);
            assertEquals(0, t.path("errors").asLong(), name + ": " + t);
        }
        assertEquals(
                4.0,
                targets.path("websocketd").path("frames_in_per_message").asDouble(),
                1e-9,
                "websocketd: the worker's 3 deltas and result, nothing else");
        assertEquals(
                1.0, targets.path("websocketd").path("frames_out_per_message").asDouble(), 1e-9);
        assertTrue(
                targets.path("tether").path("frames_in_per_message").asDouble() >= 5.0,
                "Tether: accepted, 3 deltas, result (and status frames unless turns queue): " + targets.path("tether"));
        assertTrue(report.path("compare")
                .path("ratios")
                .path("tether_to_websocketd")
                .path("round_trip_p50")
                .isNumber());
        assertTrue(report.path("compare")
                .path("ratios")
                .path("tether_to_baseline")
                .path("round_trip_p99")
                .isNumber());
        assertTrue(report.path("compare_runs")
                .path("websocketd")
                .path("audit")
                .path("passed")
                .asBoolean());
        assertEquals(
                "websocketd",
                report.path("compare_runs").path("websocketd").path("target").asText());
        assertTrue(report.path("compare_runs")
                .path("baseline")
                .path("audit")
                .path("passed")
                .asBoolean());
        assertTrue(report.path("audit").path("passed").asBoolean());
        assertTrue(
                Files.readString(out.resolve("report.txt")).contains("== compare"),
                "the text report has the comparison");
    }
}
