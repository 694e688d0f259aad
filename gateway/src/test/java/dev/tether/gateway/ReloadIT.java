package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.ConfigReloader;
import dev.tether.gateway.server.GatewayServer;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.LogCapture;
import dev.tether.gateway.testing.RawHttp;
import dev.tether.gateway.testing.TestClient;
import dev.tether.gateway.worker.pool.PoolStatus;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.UpgradeRefusal;
import dev.tether.testkit.Poll;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live reload end to end: a real gateway started from a real file, which the test rewrites while
 * the {@link ConfigReloader} watches it every 200 ms. A valid file takes effect for new sessions
 * without a restart while existing sessions keep working; an invalid one is rejected with a log line
 * naming the key and the old configuration stays; a restart-only key is reported and kept; a worker
 * environment change replaces the idle pool workers.
 */
class ReloadIT {

    private static final String SECRET = "tether-dev-secret-do-not-use-in-production-0123456789";

    /** Everything but the {@code sessions} section, which each test writes. */
    private static final String BASE = """
            server:
              host: 127.0.0.1
              port: 0
              path: %s
            abuse:
              connections_per_second: 1000
              connection_burst: 10000
            worker:
              kind: echo
              echo:
                deltas: 1
                delta_interval: 0ms
            reload:
              watch: true
              interval: 200ms
            admin:
              port: 0
            """;

    @TempDir
    Path dir;

    private GatewayServer server;
    private ConfigReloader reloader;
    private InetSocketAddress address;
    private final TokenMinter minter =
            new TokenMinter(SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC());

    @AfterEach
    void stop() {
        if (reloader != null) {
            reloader.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static String echoConfig(String path, String sessions) {
        return BASE.formatted(path) + sessions;
    }

    private Path file() {
        return dir.resolve("gateway.yaml");
    }

    /** Writes the config as an operator should: beside the file, then renamed over it. */
    private void write(String yaml) throws IOException {
        Path next = dir.resolve("gateway.yaml.next");
        Files.writeString(next, yaml, StandardCharsets.UTF_8);
        Files.move(next, file(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void start(String yaml) throws Exception {
        write(yaml);
        GatewayConfig config = ConfigLoader.load(file(), Map.of());
        server = new GatewayServer(config, Clock.systemUTC());
        address = server.start();
        reloader = new ConfigReloader(file(), Map.of(), server);
        reloader.start();
    }

    private URI uri() {
        return URI.create("ws://127.0.0.1:" + address.getPort() + "/ws");
    }

    private String token(String subject) {
        return minter.mint(subject, Duration.ofHours(1), Map.of());
    }

    private RawHttp.Response upgrade(String subject) throws IOException {
        return RawHttp.upgrade(address, "/ws", Map.of("Authorization", "Bearer " + token(subject)));
    }

    private static void roundTrip(TestClient client, String id) {
        client.send(new ClientMessage.Message(id, TextNode.valueOf("hello " + id)));
        List<ServerMessage> turn = client.until(m -> m instanceof ServerMessage.Event e
                && "result".equals(e.event().path("type").asText()));
        ServerMessage.Event result = (ServerMessage.Event) turn.get(turn.size() - 1);
        assertEquals("hello " + id, result.event().path("text").asText());
    }

    private static boolean logged(LogCapture logs, Level level, String text) {
        return logs.events().stream()
                .anyMatch(e -> e.getLevel() == level && e.getFormattedMessage().contains(text));
    }

    @Test
    void aLowerPerUserLimitRefusesNewSessionsWhileTheExistingOneKeepsWorking() throws Exception {
        start(echoConfig("/ws", "sessions: {max_sessions_per_user: 5}\n"));
        try (LogCapture logs = LogCapture.of(ConfigReloader.class.getName());
                TestClient first = TestClient.connect(uri(), token("reload-user"))) {
            first.expect(ServerMessage.SessionReady.class);
            roundTrip(first, "before");

            write(echoConfig("/ws", "sessions: {max_sessions_per_user: 1}\n"));
            logs.await(e -> e.getLevel() == Level.INFO
                    && e.getFormattedMessage().contains("changed sessions.max_sessions_per_user"));

            RawHttp.Response refused = upgrade("reload-user");
            assertEquals(UpgradeRefusal.TOO_MANY_CONNECTIONS.status(), refused.status(), refused::toString);
            assertTrue(refused.body().contains(UpgradeRefusal.TOO_MANY_CONNECTIONS.code()), refused.body());
            roundTrip(first, "after");
            assertEquals(1, server.config().sessions().maxSessionsPerUser());
            try (TestClient other = TestClient.connect(uri(), token("another-user"))) {
                other.expect(ServerMessage.SessionReady.class);
            }
            assertTrue(logs.warnings().isEmpty(), () -> "no key of this change needs a restart: " + logs.warnings());
        }
    }

    @Test
    void anInvalidFileIsRejectedNamingTheKeyAndTheRunningConfigStays() throws Exception {
        start(echoConfig("/ws", "sessions: {max_sessions_per_user: 5}\n"));
        try (LogCapture logs = LogCapture.of(ConfigReloader.class.getName())) {
            write(echoConfig("/ws", "sessions: {max_sessions_per_user: 1, reconnect_window: -5s}\n"));
            logs.await(e -> e.getLevel() == Level.WARN
                    && e.getFormattedMessage()
                            .contains("config reload rejected: sessions.reconnect_window: -5s (expected: > 0)"));

            assertEquals(5, server.config().sessions().maxSessionsPerUser());
            try (TestClient first = TestClient.connect(uri(), token("invalid-user"));
                    TestClient second = TestClient.connect(uri(), token("invalid-user"))) {
                first.expect(ServerMessage.SessionReady.class);
                second.expect(ServerMessage.SessionReady.class);
                roundTrip(second, "still-five");
            }

            // Fixing the file is picked up at the next check.
            write(echoConfig("/ws", "sessions: {max_sessions_per_user: 1}\n"));
            logs.await(e -> e.getLevel() == Level.INFO
                    && e.getFormattedMessage().contains("changed sessions.max_sessions_per_user"));
            assertEquals(1, server.config().sessions().maxSessionsPerUser());
        }
    }

    @Test
    void aRestartOnlyKeyIsReportedAndKeptWhileTheLiveOnesApply() throws Exception {
        start(echoConfig("/ws", "sessions: {retry_after: 5s}\n"));
        try (LogCapture logs = LogCapture.of(ConfigReloader.class.getName())) {
            write(echoConfig("/moved", "sessions: {retry_after: 7s}\n"));
            logs.await(e -> e.getLevel() == Level.WARN
                    && e.getFormattedMessage().contains("need a restart")
                    && e.getFormattedMessage().endsWith(": server.path"));
            assertTrue(logged(logs, Level.INFO, "changed server.path, sessions.retry_after"), logs.events()::toString);

            assertEquals("/ws", server.config().server().path());
            assertEquals(Duration.ofSeconds(7), server.config().sessions().retryAfter());
            try (TestClient client = TestClient.connect(uri(), token("path-user"))) {
                client.expect(ServerMessage.SessionReady.class);
                roundTrip(client, "old-path");
            }
            assertEquals(
                    UpgradeRefusal.NOT_FOUND.status(),
                    RawHttp.upgrade(address, "/moved", Map.of("Authorization", "Bearer " + token("path-user")))
                            .status());
        }
    }

    @Test
    void anExplicitReloadReadsTheFileEvenWithWatchOff() throws Exception {
        String unwatched = echoConfig("/ws", "sessions: {max_sessions: 50}\n").replace("watch: true", "watch: false");
        start(unwatched);
        try (LogCapture logs = LogCapture.of(ConfigReloader.class.getName())) {
            write(unwatched.replace("max_sessions: 50", "max_sessions: 40"));
            reloader.reload(); // what SIGHUP does
            logs.await(e ->
                    e.getLevel() == Level.INFO && e.getFormattedMessage().contains("changed sessions.max_sessions"));
            assertEquals(40, server.config().sessions().maxSessions());

            reloader.reload(); // re-read whether changed or not
            logs.await(
                    e -> e.getLevel() == Level.INFO && e.getFormattedMessage().contains("no key changed"));
        }
    }

    @Test
    void aWorkerEnvironmentChangeReplacesTheIdleWorkers() throws Exception {
        String marker = "reload-env";
        String reload = """
                reload:
                  watch: true
                  interval: 200ms
                """;
        start(DemoWorkers.config(marker, reload));
        Poll.until("a warm worker", () -> status().warm() == 1 && status().starting() == 0);
        Set<Long> oldIdle = DemoWorkers.running(marker);
        assertEquals(1, oldIdle.size(), oldIdle::toString);

        try (LogCapture logs = LogCapture.of(ConfigReloader.class.getName())) {
            write(DemoWorkers.config(marker, reload + """
                    worker:
                      process:
                        env:
                          DEMO_READY_DELAY: 0s
                          IT_GENERATION: "2"
                    """));
            logs.await(e -> e.getLevel() == Level.INFO
                    && e.getFormattedMessage().contains("changed worker.process.env.IT_GENERATION"));
        }
        Poll.until("the idle worker " + oldIdle + " is replaced by a new warm one", () -> {
            Set<Long> now = DemoWorkers.running(marker);
            return oldIdle.stream().noneMatch(ProcessTree::running)
                    && status().warm() == 1
                    && now.size() == 1
                    && now.stream().noneMatch(oldIdle::contains);
        });
        assertEquals("2", server.config().worker().process().env().get("IT_GENERATION"));
    }

    private PoolStatus status() {
        return server.pool().orElseThrow().status();
    }
}
