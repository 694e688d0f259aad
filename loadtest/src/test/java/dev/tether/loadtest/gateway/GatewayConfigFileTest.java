package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tether.loadtest.audit.TurnModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigFileTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void keysNotInTheFileHaveTheGatewaysDefaults() {
        GatewayConfigFile defaults = GatewayConfigFile.defaults();
        assertEquals(TurnModel.demo(), defaults.turnModel());
        assertEquals(Duration.ofMinutes(5), defaults.reconnectWindow());
        assertEquals(Duration.ofSeconds(20), defaults.heartbeatInterval());
        assertEquals(Duration.ofSeconds(60), defaults.heartbeatTimeout());
        assertEquals(10_000, defaults.replayMaxMessages());
        GatewayConfigFile shipped = GatewayConfigFile.read(ROOT.resolve("config/gateway.yaml"));
        assertEquals(defaults.reconnectWindow(), shipped.reconnectWindow());
        assertEquals(defaults.heartbeatTimeout(), shipped.heartbeatTimeout());
        assertEquals(defaults.turnModel(), shipped.turnModel());
    }

    @Test
    void theEchoBenchConfigNamesItsDeltas() {
        assertEquals(
                TurnModel.echo(3),
                GatewayConfigFile.read(ROOT.resolve("config/bench/echo.yaml")).turnModel());
    }

    @Test
    void aDerivedCopyChangesOnlyWhatItSays(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(
                dir.resolve("g.yaml"), "sessions:\n  reconnect_window: 6s\nheartbeat:\n  interval: 500ms\n");
        GatewayConfigFile original = GatewayConfigFile.read(file);
        Path written = original.with("sessions", "replay_max_messages", 16).write(dir.resolve("out/derived.yaml"));
        GatewayConfigFile derived = GatewayConfigFile.read(written);
        assertEquals(16, derived.replayMaxMessages());
        assertEquals(Duration.ofSeconds(6), derived.reconnectWindow());
        assertEquals(Duration.ofMillis(500), derived.heartbeatInterval());
        assertEquals(10_000, original.replayMaxMessages(), "the original is not changed");
    }

    @Test
    void aDottedPathWithAnEmptyKeyIsRefused() {
        GatewayConfigFile defaults = GatewayConfigFile.defaults();
        assertEquals(
                "batched", defaults.with("sessions.redis.write_mode", "batched").redisWriteMode());
        for (String path : new String[] {"sessions.redis.write_mode.", "sessions..write_mode", ".sessions", ""}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> defaults.with(path, "batched"));
            assertEquals("not a dotted key: '" + path + "'", e.getMessage());
        }
    }

    @Test
    void aDurationThatIsNotOneNamesItsKey(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("g.yaml"), "heartbeat:\n  timeout: soon\n");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> GatewayConfigFile.read(file).heartbeatTimeout());
        assertEquals(true, e.getMessage().contains("heartbeat.timeout: soon"), e.getMessage());
    }
}
