package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.AdminConfig;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.testing.GatewayProcess;
import dev.tether.gateway.testing.RawHttp;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting the gateway as an operator does, as its own process: which configurations it refuses
 * (the public development secret outside development), what it says about where it listens and
 * which file it runs on, that it never needs a fixed port (so it runs beside README's gateway), how
 * a taken port is reported, and SIGHUP without a config file.
 */
class StartupIT {

    private static final Path SHIPPED =
            Path.of("..", "config", "gateway.yaml").toAbsolutePath().normalize();
    private static final Path PRODUCTION =
            Path.of("..", "config", "production.yaml").toAbsolutePath().normalize();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private GatewayProcess gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    /** No secret from the environment, any free ports: what a fresh shell on a shared machine gives. */
    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>();
        env.put("TETHER_JWT_SECRET", null);
        env.put("TETHER_PORT", "0");
        env.put("TETHER_ADMIN_PORT", "0");
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    private Path config(String yaml) throws IOException {
        return Files.writeString(dir.resolve("gateway.yaml"), yaml);
    }

    @Test
    void theProductionExampleWithoutASecretRefusesToStart() {
        gateway = GatewayProcess.start(dir, env(), "--config", PRODUCTION.toString());
        assertEquals(2, gateway.awaitExit(), gateway::log);
        assertTrue(gateway.logged("auth.hmac_secret: the built-in development secret"), gateway::log);
        assertTrue(gateway.logged("TETHER_JWT_SECRET"), gateway::log);
        assertFalse(gateway.logged(AuthConfig.DEV_HMAC_SECRET), "the message never prints a secret");
    }

    @Test
    void theBuiltInDefaultsWithoutASecretRefuseToStart() {
        // An empty working directory: no config/gateway.yaml, so the built-in defaults.
        gateway = GatewayProcess.start(dir, env());
        assertEquals(2, gateway.awaitExit(), gateway::log);
        assertTrue(gateway.logged("auth.hmac_secret: the built-in development secret"), gateway::log);
    }

    @Test
    void theDevelopmentFileStartsOnLoopbackAndSaysWhichFileItRuns() {
        gateway = GatewayProcess.start(dir, env(), "--config", SHIPPED.toString());
        gateway.awaitLine(Pattern.compile("listening on 127\\.0\\.0\\.1:\\d+"));
        assertTrue(gateway.logged("configuration: " + SHIPPED), gateway::log);
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
    }

    @Test
    void aSecretOfItsOwnStartsAGatewayWithoutDevTokens() throws IOException {
        Path file = config("""
                worker: {kind: echo}
                web: {dev_tokens: false}
                """);
        gateway = GatewayProcess.start(
                dir, env("TETHER_JWT_SECRET", GatewayProcess.TEST_SECRET), "--config", file.toString());
        assertNotEquals(0, gateway.awaitListening());
        assertFalse(gateway.logged("built-in development secret"), gateway::log);
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
    }

    @Test
    void devTokensOnEveryInterfaceRefuseToStartWithoutDevTokensRemote() throws IOException {
        Path file = config("""
                server: {host: 0.0.0.0}
                worker: {kind: echo}
                web: {dev_tokens: true}
                """);
        gateway = GatewayProcess.start(dir, env(), "--config", file.toString());
        assertEquals(2, gateway.awaitExit(), gateway::log);
        assertTrue(
                gateway.logged("web.dev_tokens: true (expected: false when server.host (0.0.0.0) is not a loopback "
                        + "address, unless web.dev_tokens_remote is true"),
                gateway::log);
    }

    @Test
    void theAdminPortComesFromTheEnvironment() throws IOException {
        Path file = config("worker: {kind: echo}\nweb: {dev_tokens: true}\n");
        gateway = GatewayProcess.start(dir, env(), "--config", file.toString());
        int admin = gateway.awaitAdminListening();
        assertNotEquals(AdminConfig.DEFAULT_PORT, admin, "TETHER_ADMIN_PORT=0 picked a free port");
        gateway.awaitListening();
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
    }

    @Test
    void anAdminListenerOnEveryInterfaceIsWarnedAbout() throws IOException {
        Path file = config("worker: {kind: echo}\nweb: {dev_tokens: true}\nadmin: {host: 0.0.0.0}\n");
        gateway = GatewayProcess.start(dir, env(), "--config", file.toString());
        gateway.awaitListening();
        gateway.awaitLine(Pattern.compile("WARN .*admin\\.host 0\\.0\\.0\\.0 is not a loopback address"));
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
    }

    @Test
    void aTakenAdminPortFailsNamingTheAddressThroughTheLogger() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path file = config("""
                    worker: {kind: echo}
                    web: {dev_tokens: true}
                    logging: {format: json}
                    """);
            gateway = GatewayProcess.start(
                    dir, env("TETHER_ADMIN_PORT", Integer.toString(taken.getLocalPort())), "--config", file.toString());
            assertEquals(3, gateway.awaitExit(), gateway::log);
            String expected = "cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + " (admin.host, admin.port, TETHER_ADMIN_PORT)";
            JsonNode line = jsonLineContaining(expected);
            assertEquals("ERROR", line.path("level").asText(), line.toString());
            assertFalse(gateway.logged("\"listening on"), "it never said it was listening:\n" + gateway.log());
        }
    }

    @Test
    void aTakenMainPortFailsNamingTheAddress() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path file = config("worker: {kind: echo}\nweb: {dev_tokens: true}\n");
            gateway = GatewayProcess.start(
                    dir, env("TETHER_PORT", Integer.toString(taken.getLocalPort())), "--config", file.toString());
            assertEquals(3, gateway.awaitExit(), gateway::log);
            assertTrue(
                    gateway.logged("start-up failed: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                            + " (server.host, server.port, TETHER_PORT)"),
                    gateway::log);
        }
    }

    @Test
    void sighupWithoutAConfigFileSaysThereIsNothingToReloadAndKeepsRunning() {
        gateway = GatewayProcess.start(dir, env("TETHER_JWT_SECRET", GatewayProcess.TEST_SECRET));
        gateway.awaitListening();
        assertTrue(gateway.logged("configuration: built-in defaults"), gateway::log);
        gateway.signal("HUP");
        gateway.awaitLogged("SIGHUP: no config file in use (built-in defaults), nothing to reload");
        assertTrue(gateway.alive(), "still running after SIGHUP");
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
    }

    @Test
    void aLineBreakInATokensSubjectCannotForgeALogLine() throws IOException {
        Path file = config("worker: {kind: echo}\n");
        gateway = GatewayProcess.start(
                dir, env("TETHER_JWT_SECRET", GatewayProcess.TEST_SECRET), "--config", file.toString());
        int port = gateway.awaitListening();
        String forged = "2026-01-01T00:00:00.000Z WARN  [main] d.t.g.s.GatewayServer - forged line";
        String token = new TokenMinter(
                        GatewayProcess.TEST_SECRET.getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint("mallory\n" + forged + "\r\u2028x", Duration.ofMinutes(5), Map.of());
        RawHttp.Response upgraded = RawHttp.upgrade(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                "/ws",
                Map.of("Authorization", "Bearer " + token));
        assertEquals(101, upgraded.status());
        gateway.awaitLogged("session started");
        gateway.signal("TERM");
        assertEquals(0, gateway.awaitExit(), gateway::log);
        for (String line : gateway.log().lines().toList()) {
            assertFalse(line.startsWith(forged), "a forged line:\n" + gateway.log());
        }
        assertTrue(gateway.logged("subject=\"mallory\\n" + forged + "\\r\\u2028x\""), gateway::log);
    }

    /** The JSON log line whose message contains {@code text}. */
    private JsonNode jsonLineContaining(String text) throws IOException {
        for (String line : gateway.log().lines().toList()) {
            if (line.startsWith("{") && line.contains(text)) {
                return JSON.readTree(line);
            }
        }
        throw new AssertionError("no JSON line with \"" + text + "\" in:\n" + gateway.log());
    }
}
