package dev.tether.gateway;

import static dev.tether.gateway.testing.SessionClient.historyTags;
import static dev.tether.gateway.testing.SessionClient.tags;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.ServerMessage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signal path as an operator sees it: the gateway runs as its own process ({@code Main}, like
 * {@code java -jar gateway.jar --config ...}), gets SIGTERM ({@link ProcessHandle#destroy()}), drains and
 * exits 0; a second SIGTERM cuts the drain short.
 */
class SignalsIT {

    private static final Pattern LISTENING = Pattern.compile("listening on [^:]+:(\\d+)");
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Process gateway;
    private Thread reader;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

    @AfterEach
    void killLeftover() throws InterruptedException {
        if (gateway != null && gateway.isAlive()) {
            gateway.destroyForcibly();
            gateway.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void sigtermDrainsTheRunningTurnThenExitsZero() throws Exception {
        // A turn of ten deltas 200 ms apart: about two seconds, well within drain.timeout.
        String yaml = config("""
                worker:
                  kind: echo
                  echo:
                    deltas: 10
                    delta_interval: 200ms
                drain:
                  timeout: 30s
                  retry_after: 2s
                """);
        int port = start(yaml);
        try (SessionClient c = SessionClient.open(uri(port), token(yaml, "signal"))) {
            c.sendAccepted("m1", "{\"text\":\"hello\"}", 0);
            c.untilTag("status:processing");
            c.until(m -> m instanceof ServerMessage.Event);

            sigterm();

            List<ServerMessage> rest = c.untilTag("status:ended:shutdown");
            assertTrue(
                    rest.contains(new ServerMessage.ShuttingDown(2)),
                    () -> tags(rest).toString());
            List<String> history = historyTags(rest);
            assertEquals(
                    List.of("event:result:m1", "status:idle", "status:ended:shutdown"),
                    history.subList(history.size() - 3, history.size()),
                    history::toString);
            assertEquals(1001, c.ws.awaitCloseCode());
        }
        assertExits(0);
        assertLogged("SIGTERM: draining");
        assertLogged("drain finishing: no turn is running");
        assertLogged("stopped");
    }

    @Test
    void secondSigtermForcesTheStop() throws Exception {
        // A turn that would stream for hours, and a drain that would wait an hour for it.
        String yaml = config("""
                worker:
                  kind: echo
                  echo:
                    deltas: 1000
                    delta_interval: 10s
                drain:
                  timeout: 1h
                """);
        int port = start(yaml);
        try (SessionClient c = SessionClient.open(uri(port), token(yaml, "signal-twice"))) {
            c.sendAccepted("m1", "{\"text\":\"long\"}", 0);
            c.untilTag("status:processing");

            sigterm();
            c.until(m -> m instanceof ServerMessage.ShuttingDown);
            assertTrue(gateway.isAlive(), "the first SIGTERM only starts the drain");
            sigterm();

            assertEquals(List.of("status:ended:shutdown"), historyTags(c.untilTag("status:ended:shutdown")));
            assertEquals(1001, c.ws.awaitCloseCode());
        }
        assertExits(0);
        assertLogged("SIGTERM again: forcing the stop");
        assertLogged("drain finishing: forced");
        assertLogged("stopped");
    }

    // ---- helpers ----

    private static String config(String overlay) {
        return """
                server:
                  host: 127.0.0.1
                  port: 0
                abuse:
                  connections_per_second: 1000
                  connection_burst: 10000
                admin:
                  enabled: false
                auth:
                  hmac_secret: drain-on-signal-it-secret-0123456789abcdef
                """ + overlay;
    }

    /** Starts the gateway process with {@code yaml}; returns its port once it logs {@code listening on}. */
    private int start(String yaml) throws IOException, InterruptedException {
        Path file = dir.resolve("gateway.yaml");
        Files.writeString(file, yaml);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        gateway = new ProcessBuilder(
                        java,
                        "-cp",
                        System.getProperty("java.class.path"),
                        "dev.tether.gateway.Main",
                        "--config",
                        file.toString())
                .redirectErrorStream(true)
                .start();
        reader = new Thread(
                () -> {
                    try (BufferedReader in = new BufferedReader(
                            new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8))) {
                        for (String line = in.readLine(); line != null; line = in.readLine()) {
                            output.add(line);
                            lines.add(line);
                        }
                    } catch (IOException e) {
                        output.add("(output reader: " + e + ")");
                    }
                },
                "gateway-output");
        reader.setDaemon(true);
        reader.start();
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            String line = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                fail("no \"listening on\" within " + DEADLINE + ":\n" + log());
            }
            Matcher matcher = LISTENING.matcher(line);
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(1));
            }
        }
    }

    /**
     * SIGTERM through the process handle: {@code Process.destroy()} would also close our end of the
     * gateway's output, and lose what it logs while draining.
     */
    private void sigterm() {
        assertTrue(gateway.toHandle().destroy(), "SIGTERM sent");
    }

    private void assertExits(int code) throws InterruptedException {
        assertTrue(gateway.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS), () -> "still running:\n" + log());
        reader.join(DEADLINE.toMillis()); // every line it wrote, up to end of output
        assertEquals(code, gateway.exitValue(), this::log);
    }

    private static URI uri(int port) {
        return URI.create("ws://127.0.0.1:" + port + "/ws");
    }

    private static String token(String yaml, String subject) {
        GatewayConfig config = ConfigLoader.parse(yaml, Map.of());
        return new TokenMinter(config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), "HS256", Clock.systemUTC())
                .mint(subject, Duration.ofHours(1), Map.of());
    }

    private void assertLogged(String text) {
        assertTrue(output.stream().anyMatch(l -> l.contains(text)), () -> "no \"" + text + "\" in:\n" + log());
    }

    private String log() {
        return String.join("\n", output);
    }
}
