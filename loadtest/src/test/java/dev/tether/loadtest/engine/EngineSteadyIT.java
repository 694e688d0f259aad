package dev.tether.loadtest.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code steady} on the Netty engine against the packaged gateway it launches (in-process echo
 * worker), open and closed loop: every message answered, the audit passed, the sessions ended,
 * and the engine's figures (frames per message, the gateway's CPU per message) reported. The
 * gateway gets a secret of its own ({@code --secret}), as a launched gateway refuses the public
 * development one. Nothing about timing is asserted.
 */
class EngineSteadyIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String SECRET = "engine-it-secret-0123456789abcdef0123456789";

    private static JsonNode steady(Path out, String... extra) throws Exception {
        JsonNode report = run(out, extra);
        JsonNode engine = report.path("engine");
        assertEquals("netty", engine.path("client").asText());
        assertTrue(engine.path("results_in_window").asLong() > 0, engine.toString());
        assertTrue(engine.path("server_cpu_us_per_message").isNumber(), engine.toString());
        // accepted, 3 deltas and the result; a status processing and idle around each turn unless turns queue back to
        // back.
        assertTrue(engine.path("frames_in_per_message").asDouble() >= 5.0, engine.toString());
        return report;
    }

    private static JsonNode run(Path out, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "steady",
                "--launch-gateway",
                "--gateway-jar",
                ROOT.resolve("gateway/target/gateway.jar").toString(),
                "--gateway-config",
                ROOT.resolve("config/bench/echo.yaml").toString(),
                "--secret",
                SECRET,
                "--sessions",
                "4",
                "--duration",
                "2s",
                "--warmup",
                "1s",
                "--out",
                out.toString(),
                "--no-progress"));
        args.addAll(List.of(extra));
        int exit = Main.run(args.toArray(String[]::new));
        JsonNode report = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(0, exit, Files.readString(out.resolve("report.txt")));
        assertTrue(
                report.path("audit").path("passed").asBoolean(),
                report.path("audit").toString());
        JsonNode audit = report.path("audit");
        assertTrue(
                audit.path("answered").asLong() > 0
                        && audit.path("answered").asLong()
                                == audit.path("messages").asLong(),
                "every message's turn checked against the echo worker's: " + audit);
        assertTrue(
                audit.path("deltas_checked").asLong()
                        >= 3 * audit.path("answered").asLong(),
                audit.toString());
        assertEquals(0, report.path("errors").size(), report.path("errors").toString());
        assertEquals(
                4,
                report.path("sessions_end").path("ended").asInt(),
                report.path("sessions_end").toString());
        assertEquals(
                0, report.path("sessions_end").path("gateway_live_sessions").asInt(-1));
        return report;
    }

    @Test
    void openLoop(@TempDir Path out) throws Exception {
        JsonNode report = steady(out, "--rate", "80");
        assertEquals("open", report.path("engine").path("loop").asText());
        assertEquals(
                160,
                report.path("latency_ms").path("round_trip").path("count").asLong(),
                "80 msg/s for the 2 measured seconds, every one answered");
        assertEquals(3, report.path("client_warmup").path("ready").asInt());
    }

    @Test
    void closedLoop(@TempDir Path out) throws Exception {
        JsonNode report = steady(out, "--closed-loop", "--in-flight", "2");
        assertEquals("closed", report.path("engine").path("loop").asText());
        assertEquals(2, report.path("engine").path("in_flight_per_session").asInt());
        assertTrue(report.path("latency_ms").path("round_trip").path("count").asLong() > 0);
    }

    /**
     * {@code --batch} on either client: every upgrade asks for {@code batch=<ms>} (contract 8.4), the
     * audit still sees every event in order, and the report counts the frames and the messages they
     * held apart (fewer frames than messages once the gateway batches).
     */
    @Test
    void batchedDeliveryIsAskedForAndFramesAndMessagesAreCountedApart(@TempDir Path out) throws Exception {
        for (String client : List.of("netty", "tyrus")) {
            Path dir = Files.createDirectories(out.resolve(client));
            JsonNode report = run(dir, "--client", client, "--rate", "40", "--batch", "50");
            JsonNode delivery = report.path("delivery");
            assertTrue(delivery.path("frames").asLong() > 0, client + ": " + delivery);
            assertTrue(
                    delivery.path("messages").asLong() > delivery.path("frames").asLong(),
                    client + ": several messages a frame: " + delivery);
            assertTrue(
                    delivery.path("events").asLong()
                            <= delivery.path("messages").asLong(),
                    client + ": " + delivery);
            assertTrue(report.path("throughput").path("frames_per_s").asDouble() > 0, client);
        }
    }

    @Test
    void theTyrusClientStillRunsSteady(@TempDir Path out) throws Exception {
        JsonNode report = run(out, "--client", "tyrus", "--rate", "40");
        assertTrue(report.path("engine").isMissingNode(), "the Tyrus path has no engine section");
        assertEquals(
                80, report.path("latency_ms").path("round_trip").path("count").asLong());
    }
}
