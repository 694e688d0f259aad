package dev.tether.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code surge} scenario at a tiny scale against a real gateway process
 * ({@code gateway/target/gateway.jar}): capacity 2, eight {@code wait=1} clients, a line of five at
 * most. Nothing about timing is asserted: only that every client got an outcome, that the line's
 * audit found no violation, that the one client beyond the line's bound was refused 503, and that
 * the memory figures were read.
 */
class SurgeIT {

    @Test
    void eightClientsAtCapacityTwoAreServedInOrderOrRefused(@TempDir Path out) throws Exception {
        Path config = TestGatewayConfig.write(out.resolve("surge.yaml"), """
                worker:
                  kind: echo
                sessions:
                  max_sessions: 2
                  admission:
                    max_waiting: 5
                    max_wait: 1m
                """);
        int exit = TestGatewayConfig.runLaunched(
                config, "surge", "--out", out.toString(), "--no-progress", "--sessions", "8", "--hold", "100ms");
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(0, exit, "exit code; report:\n" + Files.readString(out.resolve("report.txt")));
        JsonNode surge = report.path("surge");
        assertEquals(2, surge.path("capacity").asInt(), surge.toString());
        assertEquals(8, surge.path("clients").asInt(), surge.toString());
        assertEquals(2, surge.path("served_at_once").asInt(), surge.toString());
        assertEquals(5, surge.path("waited").asInt(), surge.toString());
        assertEquals(1, surge.path("refused_503").asInt(), surge.toString());
        assertEquals(
                8,
                surge.path("served").asInt()
                        + surge.path("timed_out").asInt()
                        + surge.path("refused_503").asInt(),
                surge.toString());
        assertEquals(5, surge.path("positions").path("max_seen").asInt(), surge.toString());
        assertEquals(0, surge.path("order").path("violations").asInt(), surge.toString());
        assertEquals(5, surge.path("order").path("audited").asInt(), surge.toString());
        assertEquals(
                surge.path("served_after_waiting").asInt(),
                surge.path("wait_ms").path("count").asInt());
        JsonNode memory = surge.path("memory");
        assertEquals(5, memory.path("waiting").asInt(), memory.toString());
        assertTrue(memory.path("rss_after_bytes").asLong() > 0, memory.toString());
        assertTrue(memory.has("metrics_heap_per_waiting_bytes"), memory.toString());
        assertTrue(
                report.path("audit").path("passed").asBoolean(),
                report.path("audit").toString());
    }
}
