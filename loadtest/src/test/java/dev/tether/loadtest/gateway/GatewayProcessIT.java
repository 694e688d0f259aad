package dev.tether.loadtest.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real gateway.jar started and stopped by {@link GatewayProcess}. Needs the jar built by the
 * gateway module's package phase: present in {@code mvn verify} from the root, skipped otherwise.
 */
class GatewayProcessIT {

    private static final Path JAR = Path.of(System.getProperty("tether.gateway.jar", "../gateway/target/gateway.jar"));

    /** A secret of the test's own: the gateway refuses the public development secret outside development. */
    private static final String SECRET = "gateway-process-it-secret-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void startsOnAFreePortWaitsForReadinessAndStops() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "no " + JAR.toAbsolutePath() + " (run mvn verify from the root)");
        Path config = Files.writeString(dir.resolve("gateway.yaml"), "worker:\n  kind: echo\n");
        Path log = dir.resolve("logs/gateway.log");
        GatewayProcess.Launch launch = GatewayProcess.Launch.of(JAR, config)
                .withEnv(Map.of("TETHER_JWT_SECRET", SECRET))
                .withJvmOptions(List.of("-Xmx128m"))
                .withLogFile(log)
                .withAwaitReady(true)
                .withStartTimeout(Duration.ofSeconds(60));
        GatewayProcess gateway = GatewayProcess.launch(launch);
        ProcessHandle handle = ProcessHandle.of(gateway.pid()).orElseThrow();
        try {
            assertTrue(gateway.port() > 0);
            assertEquals(
                    "ws://127.0.0.1:" + gateway.port() + "/ws", gateway.wsUri().toString());
            HttpResponse<String> ready = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(gateway.httpUri().resolve("/readyz"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ready.statusCode());
            assertTrue(gateway.warmWorkers().isEmpty(), "an echo gateway has no pool");
            assertTrue(Files.readString(log).contains("listening on"), "its output goes to the log file");
        } finally {
            gateway.close();
        }
        assertFalse(handle.isAlive());
    }

    @Test
    void aGatewayThatCannotStartFailsWithItsOutput() throws Exception {
        assumeTrue(Files.isRegularFile(JAR), "no " + JAR.toAbsolutePath() + " (run mvn verify from the root)");
        Path config = Files.writeString(dir.resolve("gateway.yaml"), "worker:\n  kind: nonsense\n");
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> GatewayProcess.launch(JAR, config, Map.of(), Duration.ofSeconds(60)));
        assertTrue(e.getMessage().contains("exited"), e.getMessage());
    }
}
