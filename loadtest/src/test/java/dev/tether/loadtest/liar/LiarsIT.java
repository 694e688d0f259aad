package dev.tether.loadtest.liar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.loadtest.Main;
import dev.tether.loadtest.TestGatewayConfig;
import dev.tether.loadtest.audit.ViolationKind;
import dev.tether.loadtest.gateway.GatewayProcess;
import dev.tether.protocol.EchoText;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The audit against liars: short chaos runs of the real tool against a real gateway (the packaged
 * {@code gateway/target/gateway.jar}) made to lie, each of which must fail the run with the
 * violation that names its lie, while the same setup telling the truth passes.
 * <ul>
 *   <li>a gateway that lies about the stream: a {@link LyingProxy} in front of an honest gateway
 *       ({@code config/bench/chaos.yaml}) rewrites its frames and the upgrade requests;</li>
 *   <li>a gateway whose worker lies ({@link LyingWorker} as {@code worker.process.command}): what it
 *       drops, duplicates or swaps never reaches the gateway's numbering, so only the turn checks can
 *       see it.</li>
 * </ul>
 * Each lie is checked to have been told ({@code lies() > 0}, or the worker's subject), so a lie the
 * audit missed cannot pass as one never told. Nothing about timing is asserted.
 */
class LiarsIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path GATEWAY_JAR = ROOT.resolve("gateway/target/gateway.jar");
    private static final Path CHAOS_CONFIG = ROOT.resolve("config/bench/chaos.yaml");
    private static final String SECRET = "liars-it-secret-0123456789abcdef0123456789";
    /** Small runs: cuts every half second or so, back within 200 ms, resumes 1-4 seqs below what was processed. */
    private static final List<String> SMALL = List.of(
            "--sessions",
            "3",
            "--rate",
            "30",
            "--duration",
            "3s",
            "--warmup",
            "0s",
            "--cut-interval",
            "500ms",
            "--offline-max",
            "200ms",
            "--rewind-max",
            "4",
            "--client-warmup",
            "0",
            "--end-timeout",
            "5s",
            "--no-progress",
            "--seed",
            "12",
            "--secret",
            SECRET);
    /** Plain cuts and resumes only: nothing else interferes with the lie, and no user is away for long at the end. */
    private static final List<String> PLAIN = List.of(
            "--half-open-ratio",
            "0",
            "--expire-ratio",
            "0",
            "--race-ratio",
            "0",
            "--handshake-cut-ratio",
            "0",
            "--replay-cut-ratio",
            "0",
            "--drain-timeout",
            "3s");

    @TempDir
    static Path dir;

    private static GatewayProcess honest;
    private static GatewayProcess lyingWorkers;
    private static Path lyingWorkerConfig;

    @BeforeAll
    static void gateways() throws Exception {
        assertTrue(
                Files.isRegularFile(GATEWAY_JAR),
                GATEWAY_JAR + " is missing: run with the gateway module (mvn -pl gateway,loadtest -am verify)");
        honest = launch(CHAOS_CONFIG, "honest.log");
        lyingWorkerConfig =
                TestGatewayConfig.write(dir.resolve("lying-worker.yaml"), lyingWorkerConfig(workerClasspath()));
        lyingWorkers = launch(lyingWorkerConfig, "lying-workers.log");
        assertTrue(lyingWorkers.awaitWarm(3, Duration.ofSeconds(90)), "3 warm lying workers");
    }

    @AfterAll
    static void stop() {
        Stream.of(honest, lyingWorkers).filter(Objects::nonNull).forEach(GatewayProcess::close);
    }

    private static GatewayProcess launch(Path config, String log) {
        return GatewayProcess.launch(GatewayProcess.Launch.of(GATEWAY_JAR, config)
                .withEnv(Map.of("TETHER_JWT_SECRET", SECRET))
                .withLogFile(dir.resolve(log))
                .withAwaitReady(true)
                .withStartTimeout(Duration.ofSeconds(90)));
    }

    /** Runs chaos against {@code url}; returns the exit code and the report. */
    private static Run chaos(Path out, URI url, Path config, List<String> extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "chaos", "--out", out.toString(), "--url", url.toString(), "--gateway-config", config.toString()));
        args.addAll(SMALL);
        args.addAll(extra);
        int exit = Main.run(args.toArray(String[]::new));
        return new Run(
                exit, new ObjectMapper().readTree(out.resolve("report.json").toFile()));
    }

    private record Run(int exit, JsonNode report) {
        JsonNode audit() {
            return report.path("audit");
        }

        String summary() {
            return "exit " + exit + ", audit " + audit().path("violation_kinds") + ", errors " + report.path("errors")
                    + ", chaos " + report.path("chaos");
        }
    }

    // ---- a gateway that lies about the stream ----

    @Test
    void anHonestGatewayBehindTheProxyPassesAHarshRun(@TempDir Path out) throws Exception {
        try (LyingProxy proxy = new LyingProxy(address(honest), LyingProxy.Lie.NONE)) {
            // Half-open cuts keep users away for the heartbeat's timeout: the drain waits for them to come back.
            Run run = chaos(
                    out,
                    proxy.uri(),
                    CHAOS_CONFIG,
                    List.of(("--race-ratio 0.3 --handshake-cut-ratio 0.2 --replay-cut-ratio 0.2 --resend-ratio 0.2"
                                    + " --fresh-resend-ratio 0.1 --half-open-ratio 0.2 --drain-timeout 12s")
                            .split(" ", -1)));
            assertEquals(0, run.exit(), run.summary());
            assertTrue(run.audit().path("passed").asBoolean(), run.summary());
            assertTrue(run.report().path("chaos").path("resumes").asLong() > 0, run.summary());
            assertTrue(run.audit().path("replayed_seen").asLong() > 0, "replays were compared: " + run.summary());
            assertEquals(0, proxy.lies());
        }
    }

    static Stream<Arguments> gatewayLies() {
        return Stream.of(
                Arguments.of(LyingProxy.Lie.IGNORE_LAST_SEQ, ViolationKind.IGNORED_LAST_SEQ),
                Arguments.of(LyingProxy.Lie.FRESH_SESSION, ViolationKind.SESSION_CHANGED),
                Arguments.of(LyingProxy.Lie.FRESH_SESSION, ViolationKind.NOT_RESUMED),
                Arguments.of(LyingProxy.Lie.SHORT_TAIL, ViolationKind.SHORT_TAIL),
                Arguments.of(LyingProxy.Lie.CORRUPT_REPLAY, ViolationKind.REPLAY_MISMATCH),
                Arguments.of(LyingProxy.Lie.DUPLICATE_FRAME, ViolationKind.SEQ_REPEATED),
                Arguments.of(LyingProxy.Lie.REORDER_FRAMES, ViolationKind.SEQ_OUT_OF_ORDER));
    }

    @ParameterizedTest(name = "{0} fails the run with {1}")
    @MethodSource("gatewayLies")
    void aGatewayThatLiesAboutTheStreamFailsTheRun(LyingProxy.Lie lie, ViolationKind expected, @TempDir Path out)
            throws Exception {
        try (LyingProxy proxy = new LyingProxy(address(honest), lie)) {
            Run run = chaos(out, proxy.uri(), CHAOS_CONFIG, PLAIN);
            assertTrue(proxy.lies() > 0, "the proxy never told its lie: " + run.summary());
            assertEquals(1, run.exit(), run.summary());
            assertTrue(run.audit().path("violation_kinds").has(expected.wire()), run.summary());
        }
    }

    // ---- a gateway whose worker lies ----

    @Test
    void anHonestWorkerPasses(@TempDir Path out) throws Exception {
        Run run = chaos(out, lyingWorkers.wsUri(), lyingWorkerConfig, plainWith("--subject-prefix", "liar-honest-"));
        assertEquals(0, run.exit(), run.summary());
        assertTrue(run.audit().path("deltas_checked").asLong() > 0, run.summary());
    }

    static Stream<Arguments> workerLies() {
        return Stream.of(
                Arguments.of("drop", ViolationKind.DELTA_MISSING),
                Arguments.of("corrupt", ViolationKind.RESULT_MISMATCH),
                Arguments.of("duplicate", ViolationKind.DELTA_DUPLICATED),
                Arguments.of("reorder", ViolationKind.DELTA_REORDERED));
    }

    @ParameterizedTest(name = "a worker that lies '{0}' fails the run with {1}")
    @MethodSource("workerLies")
    void aWorkerThatLiesFailsTheRun(String lie, ViolationKind expected, @TempDir Path out) throws Exception {
        Run run =
                chaos(out, lyingWorkers.wsUri(), lyingWorkerConfig, plainWith("--subject-prefix", "liar-" + lie + "-"));
        assertEquals(1, run.exit(), run.summary());
        assertTrue(run.audit().path("violation_kinds").has(expected.wire()), run.summary());
        assertEquals(1, run.audit().path("violation_kinds").size(), "only the lie is found: " + run.summary());
    }

    // ---- set-up ----

    private static List<String> plainWith(String... more) {
        List<String> args = new ArrayList<>(PLAIN);
        args.addAll(List.of(more));
        return args;
    }

    private static InetSocketAddress address(GatewayProcess gateway) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), gateway.port());
    }

    /** The lying worker's class path: its own classes, the protocol's (EchoText) and Jackson's. */
    private static String workerClasspath() throws URISyntaxException {
        List<String> entries = new ArrayList<>();
        for (Class<?> type :
                List.of(LyingWorker.class, EchoText.class, ObjectMapper.class, JsonFactory.class, JsonInclude.class)) {
            entries.add(Path.of(type.getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI())
                    .toString());
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String lyingWorkerConfig(String classpath) {
        return """
                worker:
                  process:
                    command: ["${java}", "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", "%s", "dev.tether.loadtest.liar.LyingWorker"]
                    env: {}
                pool:
                  min_idle: 3
                  max_workers: 40
                  spawn_interval: 50ms
                sessions:
                  reconnect_window: 6s
                  max_queued_messages: 1000
                heartbeat:
                  interval: 1s
                  timeout: 4s
                limits:
                  max_restarts: 1000
                  restart_window: 1m
                  first_message_timeout: 1h
                  idle_timeout: 1h
                abuse:
                  connections_per_second: 100000
                  connection_burst: 100000
                  max_connections_per_address: 100000
                  messages_per_second: 10000
                  message_burst: 10000
                  max_strikes: 1000
                """.formatted(classpath);
    }
}
