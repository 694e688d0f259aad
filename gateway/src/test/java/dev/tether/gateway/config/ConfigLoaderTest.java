package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.tether.gateway.auth.KeySource;
import dev.tether.gateway.auth.TestKeys;
import io.jsonwebtoken.security.Jwks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
    private static final Map<String, String> NO_ENV = Map.of();
    /** Surefire runs in the gateway module directory; the shipped file is at the repository root. */
    private static final Path SHIPPED_FILE = Path.of("..", "config", "gateway.yaml");

    private static final KeyPair RSA = TestKeys.rsa(2048);
    private static final KeyPair OTHER_RSA = TestKeys.rsa(2048);
    private static final KeyPair EC = TestKeys.ec("secp256r1");
    private static final String SECRET_64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path tmp;

    // --- defaults and merging ---------------------------------------------------------------

    /**
     * The shipped file is the defaults with one documented exception: it is the development setup,
     * so it turns {@code web.dev_tokens} on (the code default is off).
     */
    @Test
    void shippedFileIsExactlyTheDefaultsExceptDevTokens() {
        GatewayConfig shipped = ConfigLoader.load(SHIPPED_FILE, NO_ENV);
        assertTrue(shipped.web().devTokens());
        assertFalse(GatewayConfig.defaults().web().devTokens());
        WebConfig web = GatewayConfig.defaults().web();
        GatewayConfig d = GatewayConfig.defaults();
        GatewayConfig defaultsWithDevTokens = new GatewayConfig(
                d.server(),
                d.auth(),
                d.sessions(),
                d.worker(),
                d.pool(),
                d.limits(),
                d.abuse(),
                d.drain(),
                d.heartbeat(),
                d.reload(),
                d.logging(),
                d.admin(),
                new WebConfig(web.demoPage(), true, web.devTokenMaxTtl()));
        assertEquals(defaultsWithDevTokens, shipped);
        assertEquals(List.of("web.dev_tokens"), ConfigChanges.changedKeys(GatewayConfig.defaults(), shipped));
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        GatewayConfig config = GatewayConfig.defaults();
        assertEquals(8080, config.server().port());
        assertEquals(1024 * 1024, config.server().maxFrameBytes());
        assertEquals(List.of("HS256"), config.auth().algorithms());
        assertTrue(config.auth().usesDevSecret());
        assertEquals(Duration.ofMinutes(5), config.sessions().reconnectWindow());
        assertEquals(8L * 1024 * 1024, config.sessions().replayMaxBytes());
        assertEquals(Duration.ofMillis(20), config.worker().echo().deltaInterval());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @ValueSource(strings = {"", "\n", "# only a comment\n", "---\n", "~\n", "server:\n", "server: ~\nauth:\n"})
    void emptyContentMeansDefaults(String yaml) {
        assertEquals(GatewayConfig.defaults(), ConfigLoader.parse(yaml, NO_ENV));
    }

    @Test
    void emptyFileMeansDefaults() throws IOException {
        Path file = Files.writeString(tmp.resolve("empty.yaml"), "");
        assertEquals(GatewayConfig.defaults(), ConfigLoader.load(file, NO_ENV));
    }

    @Test
    void partialFileOverridesOnlyTheGivenKeys() {
        GatewayConfig config = ConfigLoader.parse("""
                server:
                  port: 9000
                  allowed_origins: [https://app.example.com]
                sessions:
                  retry_after: 2s
                  replay_max_bytes: 64KiB
                worker:
                  echo:
                    deltas: 7
                """, NO_ENV);

        GatewayConfig defaults = GatewayConfig.defaults();
        ServerConfig server = defaults.server();
        SessionConfig sessions = defaults.sessions();
        GatewayConfig expected = new GatewayConfig(
                new ServerConfig(
                        server.host(),
                        9000,
                        server.path(),
                        server.maxFrameBytes(),
                        List.of("https://app.example.com"),
                        server.handshakeTimeout(),
                        server.ioThreads(),
                        server.preferEpoll(),
                        server.nodeId()),
                defaults.auth(),
                new SessionConfig(
                        sessions.reconnectWindow(),
                        sessions.tombstoneTtl(),
                        sessions.tombstoneMaxEntries(),
                        sessions.replayMaxMessages(),
                        64 * 1024,
                        sessions.maxQueuedMessages(),
                        sessions.maxTrackedMessageIds(),
                        sessions.maxSessions(),
                        sessions.maxSessionsPerUser(),
                        Duration.ofSeconds(2)),
                new WorkerConfig(
                        WorkerConfig.DEFAULT_KIND,
                        new EchoWorkerConfig(7, EchoWorkerConfig.DEFAULT_DELTA_INTERVAL),
                        ProcessWorkerConfig.defaults()),
                defaults.pool(),
                defaults.limits(),
                defaults.abuse(),
                defaults.drain(),
                defaults.heartbeat(),
                defaults.reload(),
                defaults.logging(),
                defaults.admin(),
                defaults.web());
        assertEquals(expected, config);
    }

    @Test
    void diskLimitsAreOnByDefaultAndZeroTurnsEachOff() {
        ProcessWorkerConfig defaults = ConfigLoader.parse("", NO_ENV).worker().process();
        assertEquals(ProcessWorkerConfig.DEFAULT_DISK_SOFT_LIMIT, defaults.diskSoftLimit());
        assertEquals(ProcessWorkerConfig.DEFAULT_DISK_HARD_LIMIT, defaults.diskHardLimit());
        assertTrue(defaults.diskLimited());
        ProcessWorkerConfig hardOnly = ConfigLoader.parse(
                        "worker:\n  process:\n    disk_soft_limit: 0\n    disk_hard_limit: 100MiB\n", NO_ENV)
                .worker()
                .process();
        assertEquals(0, hardOnly.diskSoftLimit());
        assertTrue(hardOnly.diskLimited());
        ProcessWorkerConfig off = ConfigLoader.parse(
                        "worker:\n  process:\n    disk_soft_limit: 0\n    disk_hard_limit: 0\n", NO_ENV)
                .worker()
                .process();
        assertFalse(off.diskLimited());
    }

    @Test
    void workerEnvironmentMappingReplacesTheDefaultWhole() {
        GatewayConfig config = ConfigLoader.parse("worker:\n  process:\n    env:\n      FOO: bar\n", NO_ENV);
        assertEquals(Map.of("FOO", "bar"), config.worker().process().env());
        assertEquals(
                ProcessWorkerConfig.DEFAULT_COMMAND, config.worker().process().command());
    }

    @Test
    void nullKeepsTheDefault() {
        GatewayConfig config = ConfigLoader.parse("server:\n  port: ~\n  host:\nauth:\n  issuer: ~\n", NO_ENV);
        assertEquals(GatewayConfig.defaults(), config);
    }

    @Test
    void quotedNumbersAndByteCountsAreAccepted() {
        GatewayConfig config = ConfigLoader.parse("server: {port: '9000', max_frame_bytes: 2048}", NO_ENV);
        assertEquals(9000, config.server().port());
        assertEquals(2048, config.server().maxFrameBytes());
    }

    @Test
    void issuerAudienceAndOtherAuthKeysAreRead() {
        AuthConfig auth = ConfigLoader.parse("""
                auth:
                  algorithms: [HS384]
                  issuer: https://issuer.example.com
                  audience: tether
                  clock_skew: 0s
                  allow_query_token: true
                """, NO_ENV).auth();
        assertEquals(List.of("HS384"), auth.algorithms());
        assertEquals("https://issuer.example.com", auth.issuer());
        assertEquals("tether", auth.audience());
        assertEquals(Duration.ZERO, auth.clockSkew());
        assertTrue(auth.allowQueryToken());
    }

    // --- files --------------------------------------------------------------------------------

    @Test
    void missingFileFailsNamingThePath() {
        Path missing = tmp.resolve("nope.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing, NO_ENV));
        assertTrue(e.getMessage().contains(missing.toAbsolutePath().toString()), e.getMessage());
    }

    @Test
    void loadDefaultUsesTheFileInTheWorkingDirectoryWhenPresent() throws IOException {
        assertEquals(GatewayConfig.defaults(), ConfigLoader.loadDefault(tmp, NO_ENV));
        assertEquals(
                9100,
                ConfigLoader.loadDefault(tmp, Map.of("TETHER_PORT", "9100"))
                        .server()
                        .port());

        Files.createDirectories(tmp.resolve("config"));
        Files.writeString(tmp.resolve("config").resolve("gateway.yaml"), "server: {port: 9200}\n");
        assertEquals(9200, ConfigLoader.loadDefault(tmp, NO_ENV).server().port());
    }

    @Test
    void invalidYamlFails() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("server: {port: 80\n", NO_ENV));
        assertTrue(e.getMessage().contains("invalid YAML"), e.getMessage());
    }

    @Test
    void duplicateKeyFails() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("server:\n  port: 1\n  port: 2\n", NO_ENV));
        assertTrue(e.getMessage().contains("port"), e.getMessage());
    }

    @Test
    void rootThatIsNotAMappingFails() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("- server\n", NO_ENV));
        assertTrue(e.getMessage().startsWith("(root): "), e.getMessage());
    }

    // --- unknown keys -------------------------------------------------------------------------

    @Test
    void unknownTopLevelKeyFailsNamingIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse("servers: {}\n", NO_ENV));
        assertEquals(
                "servers: unknown key (expected one of: server, auth, sessions, worker, pool, limits, abuse, drain, heartbeat, reload, logging, admin, web)",
                e.getMessage());
    }

    @Test
    void unknownNestedKeyFailsNamingTheDottedKey() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("sessions:\n  replay_max_mesages: 5\n", NO_ENV));
        assertEquals(
                "sessions.replay_max_mesages: unknown key (expected one of: reconnect_window, tombstone_ttl,"
                        + " tombstone_max_entries, replay_max_messages, replay_max_bytes, max_queued_messages,"
                        + " max_tracked_message_ids, max_sessions, max_sessions_per_user, retry_after, store, redis,"
                        + " handoff_timeout, max_viewers_per_session, admission)",
                e.getMessage());
    }

    @Test
    void maxBatchDelayDefaultsToOneSecondAndZeroTurnsBatchingOff() {
        assertEquals(
                Duration.ofSeconds(1), ConfigLoader.parse("", NO_ENV).server().maxBatchDelay());
        assertEquals(
                Duration.ZERO,
                ConfigLoader.parse("server:\n  max_batch_delay: 0s\n", NO_ENV)
                        .server()
                        .maxBatchDelay());
        assertEquals(
                Duration.ofMillis(250),
                ConfigLoader.parse("server:\n  max_batch_delay: 250ms\n", NO_ENV)
                        .server()
                        .maxBatchDelay());
    }

    @Test
    void maxViewersPerSessionDefaultsToEightAndZeroMeansNoViewers() {
        assertEquals(8, ConfigLoader.parse("", NO_ENV).sessions().maxViewersPerSession());
        assertEquals(
                0,
                ConfigLoader.parse("sessions:\n  max_viewers_per_session: 0\n", NO_ENV)
                        .sessions()
                        .maxViewersPerSession());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("sessions:\n  max_viewers_per_session: many\n", NO_ENV));
        assertTrue(e.getMessage().startsWith("sessions.max_viewers_per_session"), e.getMessage());
    }

    @Test
    void theRedisStoreNeedsANodeIdAndAValidUriAndLease() {
        ConfigException noNode =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("sessions:\n  store: redis\n", NO_ENV));
        assertEquals(
                "server.node_id: null (expected: a node id: sessions.store: redis needs one per node)",
                noNode.getMessage());
        ConfigException badStore =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("sessions:\n  store: etcd\n", NO_ENV));
        assertEquals("sessions.store: etcd (expected: one of [memory, redis])", badStore.getMessage());
        ConfigException badUri = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("sessions:\n  redis:\n    uri: http://user:hunter2@host\n", NO_ENV));
        assertTrue(badUri.getMessage().startsWith("sessions.redis.uri: (not shown)"), badUri.getMessage());
        assertFalse(badUri.getMessage().contains("hunter2"), "a password in the URI is never shown");
        ConfigException badLease = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("sessions:\n  redis:\n    lease: 500ms\n", NO_ENV));
        assertEquals("sessions.redis.lease: 500ms (expected: 1s..10m)", badLease.getMessage());
        ConfigException badHandoff = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("sessions:\n  handoff_timeout: 2h\n", NO_ENV));
        assertEquals("sessions.handoff_timeout: 2h (expected: 0s..1h)", badHandoff.getMessage());

        GatewayConfig shared = ConfigLoader.parse(
                "server:\n  node_id: n1\nsessions:\n  store: redis\n",
                Map.of(ConfigLoader.ENV_REDIS_URI, "redis://:secret@10.0.0.5:6380/2"));
        assertTrue(shared.sessions().shared());
        assertEquals(
                "redis://:secret@10.0.0.5:6380/2",
                shared.sessions().redis().uri(),
                "TETHER_REDIS_URI overrides the file");
        assertEquals(Duration.ofSeconds(10), shared.sessions().redis().lease());
        assertEquals(Duration.ofSeconds(30), shared.sessions().handoffTimeout());
        assertEquals("before_send", shared.sessions().redis().writeMode(), "frames wait for the store by default");
        assertEquals(Duration.ofSeconds(1), shared.sessions().redis().unavailableAfter());
        assertFalse(GatewayConfig.defaults().sessions().shared(), "memory is the default");
    }

    @Test
    void aRedisClusterIsNamedByItsSeedNodesAndAMalformedListFailsWithoutShowingTheUri() {
        GatewayConfig cluster = ConfigLoader.parse(
                "server:\n  node_id: n1\nsessions:\n  store: redis\n",
                Map.of(ConfigLoader.ENV_REDIS_URI, "redis-cluster://:secret@10.0.0.5:7000,10.0.0.6:7000,redis-c:7000"));
        assertEquals(
                "redis-cluster://:secret@10.0.0.5:7000,10.0.0.6:7000,redis-c:7000",
                cluster.sessions().redis().uri());
        assertEquals(
                "rediss-cluster://10.0.0.5:7000?timeout=5s",
                ConfigLoader.parse("sessions:\n  redis:\n    uri: rediss-cluster://10.0.0.5:7000?timeout=5s\n", NO_ENV)
                        .sessions()
                        .redis()
                        .uri());
        for (String bad : List.of(
                "redis-cluster://",
                "redis-cluster://:hunter2@",
                "redis-cluster://:hunter2@host",
                "redis-cluster://:hunter2@host:7000,",
                "redis-cluster://:hunter2@host:7000,,other:7000",
                "redis-cluster://:hunter2@host:port")) {
            ConfigException e = assertThrows(
                    ConfigException.class,
                    () -> ConfigLoader.parse("sessions:\n  redis:\n    uri: '" + bad + "'\n", NO_ENV),
                    bad);
            assertTrue(e.getMessage().startsWith("sessions.redis.uri: (not shown) (expected: "), e.getMessage());
            assertTrue(e.getMessage().contains("redis-cluster://host:port,host:port"), e.getMessage());
            assertFalse(e.getMessage().contains("hunter2"), "a password in the URI is never shown");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void unknownKeysFailNamingTheDottedKey(String key, String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, NO_ENV));
        assertTrue(e.getMessage().startsWith(key + ": unknown key (expected one of: "), e.getMessage());
    }

    static Stream<Arguments> unknownKeysFailNamingTheDottedKey() {
        return Stream.of(
                arguments("worker.echo.speed", "worker: {echo: {speed: 2}}"),
                arguments("server.Port", "server: {Port: 2}"),
                arguments("server.maxFrameBytes", "server: {maxFrameBytes: 2048}"),
                arguments(
                        "auth.public_keys[0].kd",
                        "auth: {algorithms: [RS256], public_keys: [{kd: a, algorithm: RS256, file: x.pem}]}"),
                arguments("extra", "extra: ~"));
    }

    // --- invalid values -------------------------------------------------------------------------

    @Test
    void messageNamesKeyValueAndExpectation() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("sessions:\n  reconnect_window: -5s\n", NO_ENV));
        assertEquals("sessions.reconnect_window: -5s (expected: > 0)", e.getMessage());
        assertEquals("sessions.reconnect_window", e.key());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource
    void invalidValueFailsNamingTheKey(String key, String yamlValue, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(nest(key, yamlValue), NO_ENV));
        assertEquals(message, e.getMessage());
    }

    static Stream<Arguments> invalidValueFailsNamingTheKey() {
        String duration = " (expected: " + Durations.EXPECTED + ")";
        String size = " (expected: " + ByteSizes.EXPECTED + ")";
        String path = " (expected: a path starting with /, of letters, digits and -._~!$&'()*+,;=:@"
                + " (no %-escapes, ?, #, empty, . or .. segments))";
        return Stream.of(
                // server
                row("server.host", "''", "server.host: \"\" (expected: a host name or IP address to bind)"),
                row("server.port", "-1", "server.port: -1 (expected: 0..65535)"),
                row("server.port", "65536", "server.port: 65536 (expected: 0..65535)"),
                row("server.path", "ws", "server.path: ws" + path),
                row("server.path", "/w%73", "server.path: /w%73" + path),
                row("server.path", "'/ws?x=1'", "server.path: /ws?x=1" + path),
                row("server.path", "'/ws#x'", "server.path: /ws#x" + path),
                row("server.path", "/ws/", "server.path: /ws/" + path),
                row("server.path", "//ws", "server.path: //ws" + path),
                row("server.path", "/a/../ws", "server.path: /a/../ws" + path),
                row("server.path", "/./ws", "server.path: /./ws" + path),
                row("server.path", "'/w s'", "server.path: /w s" + path),
                row("server.max_frame_bytes", "1023", "server.max_frame_bytes: 1023 (expected: 1KiB..64MiB)"),
                row("server.max_frame_bytes", "65MiB", "server.max_frame_bytes: 65MiB (expected: 1KiB..64MiB)"),
                row("server.max_batch_delay", "2s", "server.max_batch_delay: 2s (expected: 0s..1s)"),
                row("server.max_batch_delay", "-1ms", "server.max_batch_delay: -1ms (expected: 0s..1s)"),
                row("server.compression.threshold", "2MiB", "server.compression.threshold: 2MiB (expected: 0..1MiB)"),
                row("server.compression.level", "0", "server.compression.level: 0 (expected: 1..9)"),
                row("server.compression.level", "10", "server.compression.level: 10 (expected: 1..9)"),
                row(
                        "server.compression.client_max_window_bits",
                        "8",
                        "server.compression.client_max_window_bits: 8 (expected: 9..15)"),
                row(
                        "server.allowed_origins",
                        "[]",
                        "server.allowed_origins: [] (expected: [\"*\"] or a non-empty list of origins)"),
                row(
                        "server.allowed_origins",
                        "['*', 'https://a.example']",
                        "server.allowed_origins: [*, https://a.example]"
                                + " (expected: either [\"*\"] alone or a list of exact origins)"),
                row(
                        "server.allowed_origins",
                        "['https://a.example/app']",
                        "server.allowed_origins[0]:"
                                + " https://a.example/app (expected: an origin like https://app.example.com or"
                                + " http://localhost:3000 (scheme://host[:port], no path))"),
                row(
                        "server.allowed_origins",
                        "['https://a.example', app.example.com]",
                        "server.allowed_origins[1]:"
                                + " app.example.com (expected: an origin like https://app.example.com or"
                                + " http://localhost:3000 (scheme://host[:port], no path))"),
                row("server.handshake_timeout", "0s", "server.handshake_timeout: 0s (expected: > 0)"),
                row("server.handshake_timeout", "-1s", "server.handshake_timeout: -1s (expected: > 0)"),
                row("server.io_threads", "-1", "server.io_threads: -1 (expected: 0..1024)"),
                row("server.io_threads", "1025", "server.io_threads: 1025 (expected: 0..1024)"),
                row(
                        "server.node_id",
                        "Node-A",
                        "server.node_id: Node-A (expected: null or 1..32 characters of a-z, 0-9 and -)"),
                row(
                        "server.node_id",
                        "a.b",
                        "server.node_id: a.b (expected: null or 1..32 characters of a-z, 0-9 and -)"),
                row(
                        "server.node_id",
                        "'" + "a".repeat(33) + "'",
                        "server.node_id: " + "a".repeat(33)
                                + " (expected: null or 1..32 characters of a-z, 0-9 and -)"),
                // auth
                row(
                        "auth.algorithms",
                        "[]",
                        "auth.algorithms: []"
                                + " (expected: a non-empty list drawn from [HS256, HS384, HS512, RS256, ES256])"),
                row(
                        "auth.algorithms",
                        "[none]",
                        "auth.algorithms[0]: none (expected: one of"
                                + " [HS256, HS384, HS512, RS256, ES256]; unsigned tokens are never accepted)"),
                row(
                        "auth.algorithms",
                        "[hs256]",
                        "auth.algorithms[0]: hs256 (expected: one of [HS256, HS384, HS512, RS256, ES256])"),
                row(
                        "auth.algorithms",
                        "[HS256, HS256]",
                        "auth.algorithms[1]: HS256 (expected: no duplicates in auth.algorithms)"),
                row(
                        "auth.hmac_secret",
                        "short",
                        "auth.hmac_secret: <redacted, 5 bytes>"
                                + " (expected: at least 32 bytes (UTF-8) because HS256 is enabled)"),
                row(
                        "auth.hmac_secret",
                        "''",
                        "auth.hmac_secret: <redacted, 0 bytes>"
                                + " (expected: at least 32 bytes (UTF-8) because HS256 is enabled)"),
                row("auth.issuer", "''", "auth.issuer: \"\" (expected: a non-empty string, or null to skip the check)"),
                row(
                        "auth.audience",
                        "' '",
                        "auth.audience:   (expected: a non-empty string, or null to skip the check)"),
                row("auth.clock_skew", "-1s", "auth.clock_skew: -1s (expected: 0s..10m)"),
                row("auth.clock_skew", "11m", "auth.clock_skew: 11m (expected: 0s..10m)"),
                row(
                        "auth.public_keys",
                        "[{algorithm: HS256, file: k.pem}]",
                        "auth.public_keys[0].algorithm: HS256 (expected: one of [RS256, ES256])"),
                row(
                        "auth.public_keys",
                        "[{algorithm: RS256, file: k.pem}]",
                        "auth.public_keys[0].algorithm: RS256 (expected: an algorithm enabled in auth.algorithms [HS256])"),
                row(
                        "auth.algorithms",
                        "[~]",
                        "auth.algorithms[0]: null (expected: one of [HS256, HS384, HS512, RS256, ES256])"),
                row(
                        "auth.public_keys",
                        "[{file: k.pem}]",
                        "auth.public_keys[0].algorithm: null (expected: one of [RS256, ES256])"),
                row(
                        "auth.public_keys",
                        "[~]",
                        "auth.public_keys[0]: null (expected: a mapping with algorithm and file, algorithm and pem,"
                                + " or format jwks and file)"),
                row(
                        "auth.public_keys",
                        "[{algorithm: RS256}]",
                        "auth.public_keys[0].algorithm: RS256"
                                + " (expected: an algorithm enabled in auth.algorithms [HS256])"),
                // sessions
                row("sessions.reconnect_window", "0s", "sessions.reconnect_window: 0s (expected: > 0)"),
                row("sessions.tombstone_ttl", "-1h", "sessions.tombstone_ttl: -1h (expected: > 0)"),
                row("sessions.tombstone_max_entries", "0", "sessions.tombstone_max_entries: 0 (expected: >= 1)"),
                row("sessions.replay_max_messages", "0", "sessions.replay_max_messages: 0 (expected: >= 1)"),
                row("sessions.replay_max_bytes", "1000", "sessions.replay_max_bytes: 1000 (expected: >= 1KiB)"),
                row("sessions.replay_max_bytes", "-8MiB", "sessions.replay_max_bytes: -8MiB (expected: >= 1KiB)"),
                row("sessions.max_queued_messages", "-1", "sessions.max_queued_messages: -1 (expected: >= 0)"),
                row("sessions.max_tracked_message_ids", "0", "sessions.max_tracked_message_ids: 0 (expected: >= 1)"),
                row("sessions.max_sessions", "0", "sessions.max_sessions: 0 (expected: >= 1)"),
                row("sessions.max_sessions_per_user", "0", "sessions.max_sessions_per_user: 0 (expected: >= 1)"),
                row("sessions.retry_after", "999ms", "sessions.retry_after: 999ms (expected: >= 1s)"),
                row(
                        "sessions.max_viewers_per_session",
                        "-1",
                        "sessions.max_viewers_per_session: -1 (expected: 0..10000)"),
                row(
                        "sessions.max_viewers_per_session",
                        "10001",
                        "sessions.max_viewers_per_session: 10001 (expected: 0..10000)"),
                row("sessions.admission.max_waiting", "-1", "sessions.admission.max_waiting: -1 (expected: 0..100000)"),
                row(
                        "sessions.admission.max_waiting_per_user",
                        "100001",
                        "sessions.admission.max_waiting_per_user: 100001 (expected: 0..100000)"),
                row("sessions.admission.max_wait", "999ms", "sessions.admission.max_wait: 999ms (expected: 1s..1h)"),
                row("sessions.admission.max_wait", "2h", "sessions.admission.max_wait: 2h (expected: 1s..1h)"),
                // worker
                row("worker.kind", "python", "worker.kind: python (expected: one of [echo, process])"),
                row("worker.echo.deltas", "0", "worker.echo.deltas: 0 (expected: 1..1000)"),
                row("worker.echo.deltas", "1001", "worker.echo.deltas: 1001 (expected: 1..1000)"),
                row("worker.echo.delta_interval", "-1ms", "worker.echo.delta_interval: -1ms (expected: 0s..10s)"),
                row("worker.echo.delta_interval", "11s", "worker.echo.delta_interval: 11s (expected: 0s..10s)"),
                row(
                        "worker.process.command",
                        "[]",
                        "worker.process.command: [] (expected: a non-empty list of non-empty strings)"),
                row(
                        "worker.process.env_allow",
                        "[LD_PRELOAD]",
                        "worker.process.env_allow[0]: LD_PRELOAD (expected: a variable that cannot inject code (LD_*, DYLD_*, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS, CLASSPATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, TETHER_* ... are refused))"),
                row(
                        "worker.process.env_allow",
                        "[PATH, 'A B']",
                        "worker.process.env_allow[1]: A B (expected: an environment variable name)"),
                row(
                        "worker.process.env",
                        "{JAVA_TOOL_OPTIONS: x}",
                        "worker.process.env.JAVA_TOOL_OPTIONS: JAVA_TOOL_OPTIONS (expected: a variable that cannot inject code (LD_*, DYLD_*, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS, CLASSPATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, TETHER_* ... are refused))"),
                row(
                        "worker.process.env",
                        "{LD_LIBRARY_PATH: /x}",
                        "worker.process.env.LD_LIBRARY_PATH: LD_LIBRARY_PATH (expected: a variable that cannot inject code (LD_*, DYLD_*, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS, CLASSPATH, NODE_OPTIONS, PYTHONPATH, BASH_ENV, TETHER_* ... are refused))"),
                row(
                        "worker.process.command",
                        "[worker, \"a\\0b\"]",
                        "worker.process.command: an argument with a NUL character (expected: arguments without NUL characters (a process cannot receive them))"),
                row(
                        "worker.process.env",
                        "{TOKEN: \"a\\0b\"}",
                        "worker.process.env.TOKEN: a value with a NUL character (expected: a value without NUL characters (a process cannot receive them))"),
                row(
                        "worker.process.max_line_bytes",
                        "512",
                        "worker.process.max_line_bytes: 512 (expected: 1KiB..64MiB)"),
                row(
                        "worker.process.max_pending_events",
                        "0",
                        "worker.process.max_pending_events: 0 (expected: 1..1000000)"),
                row("worker.process.stop_grace", "11m", "worker.process.stop_grace: 11m (expected: 0s..10m)"),
                row("worker.process.kill_grace", "-1s", "worker.process.kill_grace: -1s (expected: 0s..10m)"),
                row(
                        "worker.process.oom_score_adj",
                        "1001",
                        "worker.process.oom_score_adj: 1001 (expected: -1000..1000)"),
                row(
                        "worker.process.oom_score_adj",
                        "-1001",
                        "worker.process.oom_score_adj: -1001 (expected: -1000..1000)"),
                row("worker.process.max_open_files", "63", "worker.process.max_open_files: 63 (expected: 64..1048576)"),
                row("worker.process.max_processes", "7", "worker.process.max_processes: 7 (expected: 8..4194304)"),
                row("worker.process.max_file_size", "1KiB", "worker.process.max_file_size: 1KiB (expected: >= 1MiB)"),
                row("worker.process.max_cpu_time", "-1s", "worker.process.max_cpu_time: -1s (expected: 0s..365d)"),
                row(
                        "worker.process.max_cpu_time",
                        "1500ms",
                        "worker.process.max_cpu_time: 1500ms (expected: whole seconds (RLIMIT_CPU counts seconds), or 0 for no limit)"),
                row(
                        "worker.process.limit_enforcement",
                        "kernel",
                        "worker.process.limit_enforcement: kernel (expected: one of auto, cgroup, poll)"),
                row(
                        "worker.process.disk_soft_limit",
                        "1KiB",
                        "worker.process.disk_soft_limit: 1KiB (expected: 0 (off) or at least 1MiB)"),
                row(
                        "worker.process.disk_hard_limit",
                        "512MiB",
                        "worker.process.disk_hard_limit: 512MiB (expected: 0 (off) or >= worker.process.disk_soft_limit (1GiB))"),
                row(
                        "worker.process.disk_poll_interval",
                        "5ms",
                        "worker.process.disk_poll_interval: 5ms (expected: 10ms..1h)"),
                row(
                        "worker.process.disk_scan_entries",
                        "15",
                        "worker.process.disk_scan_entries: 15 (expected: 16..1000000)"),
                // pool
                row("pool.min_idle", "-1", "pool.min_idle: -1 (expected: 0..10000)"),
                row("pool.max_workers", "0", "pool.max_workers: 0 (expected: 1..100000)"),
                row("pool.spawn_interval", "-5ms", "pool.spawn_interval: -5ms (expected: 0s..10m)"),
                row("pool.init_timeout", "0s", "pool.init_timeout: 0s (expected: > 0)"),
                row("pool.backoff_max", "10ms", "pool.backoff_max: 10ms (expected: >= pool.backoff_initial (1s))"),
                row("pool.breaker_failures", "0", "pool.breaker_failures: 0 (expected: 1..1000)"),
                row("pool.breaker_cooldown", "0s", "pool.breaker_cooldown: 0s (expected: > 0)"),
                row("pool.warm_start_timeout", "0s", "pool.warm_start_timeout: 0s (expected: > 0)"),
                // auth refresh
                row("auth.refresh_lead", "-1s", "auth.refresh_lead: -1s (expected: 0s..1d)"),
                row("auth.refresh_interval", "10ms", "auth.refresh_interval: 10ms (expected: >= 100ms)"),
                row("auth.expired_grace", "2d", "auth.expired_grace: 2d (expected: 0s..1d)"),
                // auth keys
                row("auth.key_reload_interval", "50ms", "auth.key_reload_interval: 50ms (expected: >= 100ms)"),
                row("auth.key_reload_interval", "0", "auth.key_reload_interval: 0s (expected: >= 100ms)"),
                row("auth.key_reload_interval", "often", "auth.key_reload_interval: often" + duration),
                row(
                        "auth.public_keys",
                        "[{format: der, file: k.der}]",
                        "auth.public_keys[0].format: der (expected: one of [pem, jwks])"),
                row(
                        "auth.public_keys",
                        "[{format: JWKS, file: k.json}]",
                        "auth.public_keys[0].format: JWKS (expected: one of [pem, jwks])"),
                row(
                        "auth.public_keys",
                        "[{format: jwks}]",
                        "auth.public_keys[0].file: null (expected: the path of a JWK Set file, since format is jwks)"),
                row(
                        "auth.public_keys",
                        "[{format: jwks, file: k.json, kid: k1}]",
                        "auth.public_keys[0].kid: k1 (expected: no kid with format jwks; each JWK carries its own)"),
                row(
                        "auth.public_keys",
                        "[{format: jwks, file: k.json, algorithm: RS256}]",
                        "auth.public_keys[0].algorithm: RS256 (expected: no algorithm with format jwks;"
                                + " each JWK's alg (or key type) gives it)"),
                row(
                        "auth.public_keys",
                        "[{format: jwks, pem: '-----BEGIN PUBLIC KEY-----'}]",
                        "auth.public_keys[0].pem: <inline PEM, 26 chars> (expected: no pem with format jwks;"
                                + " a JWK Set is read from file)"),
                row(
                        "auth.public_keys",
                        "[{pem: x}]",
                        "auth.public_keys[0].algorithm: null (expected: one of [RS256, ES256])"),
                row(
                        "auth.public_keys",
                        "[{format: jwks, file: [a]}]",
                        "auth.public_keys[0].file: [\"a\"] (expected: a file path)"),
                // abuse
                row(
                        "abuse.connections_per_second",
                        "0",
                        "abuse.connections_per_second: 0.0 (expected: a rate per second > 0 and <= 1000000)"),
                row("abuse.connection_burst", "0", "abuse.connection_burst: 0 (expected: 1..1000000)"),
                row("abuse.max_tracked_addresses", "0", "abuse.max_tracked_addresses: 0 (expected: 1..100000000)"),
                row(
                        "abuse.messages_per_second",
                        "-3",
                        "abuse.messages_per_second: -3.0 (expected: a rate per second > 0 and <= 1000000)"),
                row("abuse.message_burst", "0", "abuse.message_burst: 0 (expected: 1..1000000)"),
                row("abuse.max_strikes", "0", "abuse.max_strikes: 0 (expected: 1..1000000)"),
                row("abuse.strike_window", "0s", "abuse.strike_window: 0s (expected: > 0)"),
                row("abuse.max_message_bytes", "8", "abuse.max_message_bytes: 8 (expected: 16..64MiB)"),
                row("abuse.outbound_high_water", "1KiB", "abuse.outbound_high_water: 1KiB (expected: 4KiB..1GiB)"),
                row("abuse.outbound_stall_timeout", "0s", "abuse.outbound_stall_timeout: 0s (expected: > 0)"),
                row(
                        "abuse.max_outbound_bytes",
                        "512KiB",
                        "abuse.max_outbound_bytes: 512KiB (expected: >= abuse.outbound_high_water (1MiB))"),
                // drain, heartbeat, reload, logging, admin
                row("drain.timeout", "2h", "drain.timeout: 2h (expected: 0s..1h)"),
                row("drain.retry_after", "0s", "drain.retry_after: 0s (expected: 1s..1h)"),
                row("heartbeat.interval", "10ms", "heartbeat.interval: 10ms (expected: 100ms..1h)"),
                row("heartbeat.timeout", "10s", "heartbeat.timeout: 10s (expected: > heartbeat.interval (20s))"),
                row("reload.interval", "1ms", "reload.interval: 1ms (expected: 100ms..1h)"),
                row("logging.format", "xml", "logging.format: xml (expected: one of [text, json])"),
                row("admin.port", "70000", "admin.port: 70000 (expected: 0..65535)"),
                row("admin.role", "' '", "admin.role:   (expected: a role name)"),
                // limits
                row("limits.max_restarts", "-1", "limits.max_restarts: -1 (expected: 0..1000)"),
                row("limits.restart_window", "0s", "limits.restart_window: 0s (expected: > 0)"),
                row("limits.rss_poll_interval", "5ms", "limits.rss_poll_interval: 5ms (expected: >= 10ms)"),
                row("limits.rss_soft_limit", "1KiB", "limits.rss_soft_limit: 1KiB (expected: >= 1MiB)"),
                row(
                        "limits.rss_hard_limit",
                        "256MiB",
                        "limits.rss_hard_limit: 256MiB (expected: >= limits.rss_soft_limit (512MiB))"),
                row("limits.max_duration", "0s", "limits.max_duration: 0s (expected: > 0)"),
                row(
                        "limits.warning_ratio",
                        "1.0",
                        "limits.warning_ratio: 1.0 (expected: a fraction between 0 and 1, exclusive)"),
                row(
                        "limits.warning_ratio",
                        "0",
                        "limits.warning_ratio: 0.0 (expected: a fraction between 0 and 1, exclusive)"),
                row("limits.duration_grace", "2h", "limits.duration_grace: 2h (expected: 0s..1h)"),
                row("limits.idle_timeout", "0s", "limits.idle_timeout: 0s (expected: > 0)"),
                row("limits.first_message_timeout", "-1s", "limits.first_message_timeout: -1s (expected: > 0)"),
                row("limits.interrupt_after_disconnect", "0s", "limits.interrupt_after_disconnect: 0s (expected: > 0)"),
                row("limits.turn_stall_timeout", "-1s", "limits.turn_stall_timeout: -1s (expected: 0s..1d)"),
                row("limits.max_extensions", "-1", "limits.max_extensions: -1 (expected: 0..100)"),
                row(
                        "auth.forward_claims",
                        "[org, access_token]",
                        "auth.forward_claims: access_token (expected: " + NOT_A_CREDENTIAL + ")"),
                row("auth.forward_claims", "[view]", "auth.forward_claims: view (expected: " + NOT_A_CREDENTIAL + ")"),
                row("auth.forward_claims", "[org, org]", "auth.forward_claims: org (expected: each name once)"),
                row(
                        "auth.forward_claims",
                        "[\"a b\"]",
                        "auth.forward_claims: a b (expected: claim names of 1 to 64 of [A-Za-z0-9_.:/-])"),
                row("limits.extension", "0s", "limits.extension: 0s (expected: 1s..1d)"),
                row("limits.hibernate_after", "-1s", "limits.hibernate_after: -1s (expected: 0s..7d)"),
                row("limits.hibernate_after", "8d", "limits.hibernate_after: 8d (expected: 0s..7d)"),
                row("limits.extension", "2d", "limits.extension: 2d (expected: 1s..1d)"),
                row(
                        "sessions.redis.write_mode",
                        "eventually",
                        "sessions.redis.write_mode: eventually (expected: one of [before_send, batched])"),
                row(
                        "sessions.redis.unavailable_after",
                        "10ms",
                        "sessions.redis.unavailable_after: 10ms (expected: 100ms..1m)"),
                // wrong types and unparsable scalars
                row("server.port", "abc", "server.port: abc (expected: an integer)"),
                row("server.port", "80.5", "server.port: 80.5 (expected: an integer)"),
                row("server.port", "[80]", "server.port: [80] (expected: an integer)"),
                row("server.port", "99999999999", "server.port: 99999999999 (expected: an integer)"),
                row("server.prefer_epoll", "maybe", "server.prefer_epoll: maybe (expected: true or false)"),
                row("server.prefer_epoll", "1", "server.prefer_epoll: 1 (expected: true or false)"),
                row(
                        "server.allowed_origins",
                        "https://a.example",
                        "server.allowed_origins: https://a.example (expected: a list)"),
                row("server.max_frame_bytes", "1MB", "server.max_frame_bytes: 1MB" + size),
                row("server.max_frame_bytes", "1.5MiB", "server.max_frame_bytes: 1.5MiB" + size),
                row(
                        "server.max_frame_bytes",
                        "4GiB",
                        "server.max_frame_bytes: 4GiB (expected: " + ByteSizes.EXPECTED + ", below 2GiB)"),
                row("sessions.replay_max_bytes", "[1]", "sessions.replay_max_bytes: [1]" + size),
                row("sessions.reconnect_window", "soon", "sessions.reconnect_window: soon" + duration),
                row("sessions.reconnect_window", "5", "sessions.reconnect_window: 5" + duration),
                row("sessions.reconnect_window", "5 minutes", "sessions.reconnect_window: 5 minutes" + duration),
                row("server", "5", "server: 5 (expected: a mapping)"),
                row("worker.echo", "[]", "worker.echo: [] (expected: a mapping)"),
                row("auth.hmac_secret", "[not, shown]", "auth.hmac_secret: <redacted> (expected: a string)"),
                row(
                        "auth.public_keys",
                        "[{algorithm: RS256, file: [a]}]",
                        "auth.public_keys[0].file: [\"a\"] (expected: a file path)"));
    }

    private static final String NOT_A_CREDENTIAL =
            "a claim that cannot hold a credential (see auth.forward_claims in docs/configuration.md)";

    private static Arguments row(String key, String yamlValue, String message) {
        return arguments(key, yamlValue, message);
    }

    /** {@code nest("a.b", "1")} is the flow-style YAML {@code {a: {b: 1}}}. */
    private static String nest(String dottedKey, String yamlValue) {
        String yaml = yamlValue;
        String[] parts = dottedKey.split("\\.", -1);
        for (int i = parts.length - 1; i >= 0; i--) {
            yaml = "{" + parts[i] + ": " + yaml + "}";
        }
        return yaml;
    }

    // --- auth cross-checks ----------------------------------------------------------------------

    @Test
    void hs512WithTheDevSecretFailsNamingTheSecretKey() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("auth: {algorithms: [HS256, HS512]}", NO_ENV));
        assertEquals("auth.hmac_secret", e.key());
        assertTrue(e.getMessage().contains("at least 64 bytes (UTF-8) because HS512 is enabled"), e.getMessage());
        assertFalse(e.getMessage().contains(AuthConfig.DEV_HMAC_SECRET), e.getMessage());
    }

    @Test
    void hs512WithALongEnoughSecretLoads() {
        AuthConfig auth = ConfigLoader.parse("auth: {algorithms: [HS512], hmac_secret: " + SECRET_64 + "}", NO_ENV)
                .auth();
        assertEquals(List.of("HS512"), auth.algorithms());
        assertFalse(auth.usesDevSecret());
    }

    @Test
    void hs384AcceptsTheDevSecret() {
        assertTrue(
                ConfigLoader.parse("auth: {algorithms: [HS384]}", NO_ENV).auth().usesDevSecret());
    }

    @Test
    void publicKeyAlgorithmNeedsAKey() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("auth: {algorithms: [HS256, ES256]}", NO_ENV));
        assertEquals(
                "auth.public_keys: [] (expected: at least one key with algorithm ES256,"
                        + " because auth.algorithms contains it)",
                e.getMessage());
    }

    @Test
    void missingPublicKeyFileFailsNamingItsKey() {
        String missing = tmp.resolve("missing.pem").toString();
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256], public_keys: [{algorithm: RS256, file: '" + missing + "'}]}",
                        NO_ENV));
        assertEquals("auth.public_keys[0].file", e.key());
        assertTrue(e.getMessage().startsWith("auth.public_keys[0].file: " + missing + " (expected: "), e.getMessage());
    }

    @Test
    void publicKeysAreReadWhenTheirFilesExist() throws IOException {
        Path rsa = Files.writeString(tmp.resolve("rsa.pem"), TestKeys.publicPem(RSA));
        Path ec = Files.writeString(tmp.resolve("ec.pem"), TestKeys.publicPem(EC));
        AuthConfig auth = ConfigLoader.parse("""
                auth:
                  algorithms: [RS256, ES256]
                  public_keys:
                    - {kid: r1, algorithm: RS256, file: '%s'}
                    - {algorithm: ES256, file: '%s'}
                """.formatted(rsa, ec), NO_ENV).auth();
        assertEquals(
                List.of(new PublicKeyConfig("r1", "RS256", rsa), new PublicKeyConfig(null, "ES256", ec)),
                auth.publicKeys());
    }

    @Test
    void duplicateKidFails() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> authConfigWithKeys(
                        List.of("RS256"),
                        null,
                        List.of(
                                new PublicKeyConfig("k", "RS256", Path.of("a.pem")),
                                new PublicKeyConfig("k", "RS256", Path.of("b.pem")))));
        assertEquals("auth.public_keys[1].kid: k (expected: a kid not used by another key)", e.getMessage());
    }

    @Test
    void publicKeyWithoutFileFailsNamingIt() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("auth: {algorithms: [RS256], public_keys: [{algorithm: RS256}]}", NO_ENV));
        assertEquals(
                "auth.public_keys[0].file: null (expected: the path of a PEM public key file, or inline pem)",
                e.getMessage());
    }

    @Test
    void nullsInDirectConstructionFailNamingTheKey() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> new WorkerConfig(null, EchoWorkerConfig.defaults(), ProcessWorkerConfig.defaults()));
        assertEquals("worker.kind: null (expected: one of [echo, process])", e.getMessage());
        e = assertThrows(
                ConfigException.class,
                () -> new SessionConfig(null, Duration.ofHours(1), 1, 1, 1024, 0, 1, 1, 1, Duration.ofSeconds(1)));
        assertEquals("sessions.reconnect_window: null (expected: > 0)", e.getMessage());
    }

    @Test
    void noHmacAlgorithmNeedsNoSecret() {
        AuthConfig auth = authConfigWithKeys(
                List.of("RS256"), null, List.of(new PublicKeyConfig(null, "RS256", Path.of("a.pem"))));
        assertFalse(auth.usesDevSecret());
    }

    /**
     * An {@link AuthConfig} with only these keys set: no issuer or audience, no clock skew, no query
     * token, refresh lead 1m, refresh interval 15s, expired grace 30s, the other keys at their defaults.
     */
    private static AuthConfig authConfigWithKeys(
            List<String> algorithms, String hmacSecret, List<PublicKeyConfig> publicKeys) {
        return new AuthConfig(
                algorithms,
                hmacSecret,
                publicKeys,
                null,
                null,
                Duration.ZERO,
                false,
                Duration.ofMinutes(1),
                Duration.ofSeconds(15),
                Duration.ofSeconds(30),
                AuthConfig.DEFAULT_KEY_RELOAD_INTERVAL,
                List.of());
    }

    // --- key sources: inline PEM and JWK Sets ----------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void invalidPublicKeyEntryFailsNamingIt(String entries, String message) {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("auth: {algorithms: [RS256], public_keys: " + entries + "}", NO_ENV));
        assertEquals(message, e.getMessage());
    }

    static Stream<Arguments> invalidPublicKeyEntryFailsNamingIt() {
        return Stream.of(
                arguments(
                        "[{algorithm: RS256, file: a.pem, pem: x}]",
                        "auth.public_keys[0].pem: <inline PEM, 1 chars> (expected: either file or pem, not both)"),
                arguments(
                        "[{algorithm: RS256, pem: ' '}]",
                        "auth.public_keys[0].pem: <inline PEM, 1 chars> (expected: a -----BEGIN PUBLIC KEY----- block)"),
                arguments(
                        "[{algorithm: RS256, pem: 'not a key'}]",
                        "auth.public_keys[0].pem: <inline PEM, 9 chars> (expected: a PEM public key for RS256;"
                                + " no -----BEGIN PUBLIC KEY----- block found)"),
                arguments(
                        "[{algorithm: RS256, pem: '" + TestKeys.publicPem(RSA) + "'}," + " {algorithm: RS256, pem: '"
                                + TestKeys.publicPem(EC) + "'}]",
                        "auth.public_keys[1].pem: <inline PEM, "
                                + TestKeys.publicPem(EC).length() + " chars>"
                                + " (expected: a PEM public key for RS256; PEM holds an EC key, but RS256 needs an RSA key)"));
    }

    @Test
    void inlinePrivateKeyFailsWithoutShowingIt() {
        String pem = TestKeys.pem("PRIVATE KEY", RSA.getPrivate().getEncoded());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256], public_keys: [{algorithm: RS256, pem: '" + pem + "'}]}", NO_ENV));
        assertEquals("auth.public_keys[0].pem", e.key());
        assertTrue(e.getMessage().contains("PEM holds a private key"), e.getMessage());
        assertFalse(e.getMessage().contains(pem.substring(40, 80)), e.getMessage());
    }

    @Test
    void inlinePemLoadsAndIsNotShown() {
        String pem = TestKeys.publicPem(EC);
        AuthConfig auth = ConfigLoader.parse("""
                auth:
                  algorithms: [ES256]
                  public_keys:
                    - kid: e1
                      algorithm: ES256
                      pem: |
                %s
                """.formatted(pem.indent(8).stripTrailing()), NO_ENV)
                .auth();
        assertEquals(List.of(new PublicKeyConfig("e1", "ES256", null, pem, "pem")), auth.publicKeys());
        assertEquals(List.of(KeySource.inlinePem("auth.public_keys[0]", "e1", "ES256", pem)), auth.keySources());
        assertFalse(auth.toString().contains("BEGIN"), auth.toString());
        assertTrue(auth.toString().contains("pem=<inline PEM, " + pem.length() + " chars>"), auth.toString());
    }

    @Test
    void jwkSetFileLoadsAndGivesTheKeysAlgorithms() throws IOException {
        Path jwks = Files.writeString(
                tmp.resolve("jwks.json"),
                TestKeys.jwkSet(
                        TestKeys.jwk(RSA.getPublic(), "r1", null, null),
                        TestKeys.jwk(EC.getPublic(), "e1", "ES256", "sig")));
        Path pem = Files.writeString(tmp.resolve("extra.pem"), TestKeys.publicPem(OTHER_RSA));
        AuthConfig auth = ConfigLoader.parse("""
                auth:
                  algorithms: [RS256, ES256]
                  key_reload_interval: 250ms
                  public_keys:
                    - {format: jwks, file: '%s'}
                    - {kid: r2, algorithm: RS256, file: '%s'}
                """.formatted(jwks, pem), NO_ENV).auth();
        assertEquals(
                List.of(new PublicKeyConfig(null, null, jwks, null, "jwks"), new PublicKeyConfig("r2", "RS256", pem)),
                auth.publicKeys());
        assertEquals(
                List.of(
                        KeySource.jwksFile("auth.public_keys[0]", jwks),
                        KeySource.pemFile("auth.public_keys[1]", "r2", "RS256", pem)),
                auth.keySources());
        assertEquals(Duration.ofMillis(250), auth.keyReloadInterval());
    }

    @Test
    void missingJwkSetFileFailsNamingItsKey() {
        String missing = tmp.resolve("missing.json").toString();
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256], public_keys: [{format: jwks, file: '" + missing + "'}]}", NO_ENV));
        assertEquals("auth.public_keys[0].file", e.key());
        assertTrue(
                e.getMessage()
                        .startsWith("auth.public_keys[0].file: " + missing
                                + " (expected: a readable JWK Set file (working directory: "),
                e.getMessage());
    }

    @Test
    void unparsableKeyFilesFailNamingTheirKey() throws IOException {
        Path junk = Files.writeString(tmp.resolve("junk.pem"), "-----BEGIN PUBLIC KEY-----\n");
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256], public_keys: [{algorithm: RS256, file: '" + junk + "'}]}",
                        NO_ENV));
        assertEquals(
                "auth.public_keys[0].file: " + junk + " (expected: a PEM public key for RS256;"
                        + " no -----BEGIN PUBLIC KEY----- block found)",
                e.getMessage());

        Path half = Files.writeString(tmp.resolve("half.json"), "{\"keys\": [");
        e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("""
                auth:
                  algorithms: [RS256]
                  public_keys: [{algorithm: RS256, pem: '%s'}, {format: jwks, file: '%s'}]
                """.formatted(TestKeys.publicPem(RSA), half), NO_ENV));
        assertEquals("auth.public_keys[1].file", e.key());
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "auth.public_keys[1].file: " + half + " (expected: a JWK Set; not a valid JWK Set: "),
                e.getMessage());

        String privateJwk =
                Jwks.UNSAFE_JSON(Jwks.builder().rsaKeyPair(RSA).id("p").build());
        Path secret = Files.writeString(tmp.resolve("private.json"), TestKeys.jwkSet(privateJwk));
        e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256], public_keys: [{format: jwks, file: '" + secret + "'}]}", NO_ENV));
        assertTrue(
                e.getMessage()
                        .startsWith("auth.public_keys[0].file: " + secret
                                + " (expected: a JWK Set; JWK keys[0] (kid p) is a private key"),
                e.getMessage());
    }

    @Test
    void jwkSetWithoutAKeyForAnEnabledAlgorithmFails() throws IOException {
        Path jwks = Files.writeString(
                tmp.resolve("enc.json"),
                TestKeys.jwkSet(
                        TestKeys.jwk(RSA.getPublic(), "enc", "RSA-OAEP", "enc"),
                        TestKeys.jwk(EC.getPublic(), "e1", null, null)));
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse(
                        "auth: {algorithms: [RS256, ES256], public_keys: [{format: jwks, file: '" + jwks + "'}]}",
                        NO_ENV));
        assertEquals(
                "auth.public_keys: [jwks:" + jwks + "] (expected: at least one key with algorithm RS256,"
                        + " because auth.algorithms contains it; the JWK Sets hold none usable)",
                e.getMessage());
    }

    @Test
    void oldConstructorKeepsTheDefaultReloadInterval() {
        AuthConfig auth = authConfigWithKeys(List.of("HS256"), AuthConfig.DEV_HMAC_SECRET, List.of());
        assertEquals(AuthConfig.DEFAULT_KEY_RELOAD_INTERVAL, auth.keyReloadInterval());
        assertEquals(Duration.ofSeconds(10), GatewayConfig.defaults().auth().keyReloadInterval());
    }

    // --- environment ----------------------------------------------------------------------------

    @Test
    void environmentOverridesTheFile() {
        GatewayConfig config = ConfigLoader.parse(
                "server: {port: 9000}\nauth: {hmac_secret: " + SECRET_64 + "}\n",
                Map.of("TETHER_PORT", "0", "TETHER_JWT_SECRET", "from-the-environment-0123456789-abcdef"));
        assertEquals(0, config.server().port());
        assertEquals("from-the-environment-0123456789-abcdef", config.auth().hmacSecret());
        assertFalse(config.auth().usesDevSecret());
    }

    @Test
    void environmentOverridesTheShippedFile() {
        GatewayConfig config = ConfigLoader.load(SHIPPED_FILE, Map.of("TETHER_PORT", "18080"));
        assertEquals(18080, config.server().port());
        assertTrue(config.auth().usesDevSecret());
    }

    @Test
    void adminPortFromTheEnvironmentMovesTheAdminListener() {
        assertEquals(
                0,
                ConfigLoader.load(SHIPPED_FILE, Map.of("TETHER_ADMIN_PORT", "0"))
                        .admin()
                        .port());
        assertEquals(
                9181,
                ConfigLoader.parse("admin: {port: 9100}", Map.of("TETHER_ADMIN_PORT", "9181"))
                        .admin()
                        .port());
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("", Map.of("TETHER_ADMIN_PORT", "eighty")));
        assertEquals(
                "TETHER_ADMIN_PORT: eighty (expected: an integer port 0..65535 (overrides admin.port))",
                e.getMessage());
    }

    @ParameterizedTest(name = "TETHER_PORT={0}")
    @ValueSource(strings = {"abc", "", "-1", "65536", "80.0", "8080x"})
    void invalidPortFromEnvironmentFailsNamingTheVariable(String value) {
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("", Map.of("TETHER_PORT", value)));
        assertTrue(e.getMessage().startsWith("TETHER_PORT: "), e.getMessage());
        assertTrue(e.getMessage().contains("0..65535"), e.getMessage());
    }

    @Test
    void shortSecretFromEnvironmentFailsNamingKeyAndVariableWithoutShowingIt() {
        ConfigException e = assertThrows(
                ConfigException.class, () -> ConfigLoader.parse("", Map.of("TETHER_JWT_SECRET", "hunter2")));
        assertEquals(
                "auth.hmac_secret (from TETHER_JWT_SECRET): <redacted, 7 bytes>"
                        + " (expected: at least 32 bytes (UTF-8) because HS256 is enabled)",
                e.getMessage());
    }

    // --- secrecy --------------------------------------------------------------------------------

    @Test
    void secretNeverAppearsInToString() {
        GatewayConfig config = ConfigLoader.parse("", Map.of("TETHER_JWT_SECRET", SECRET_64));
        assertFalse(config.auth().toString().contains(SECRET_64), config.auth().toString());
        assertFalse(config.toString().contains(SECRET_64), config.toString());
        assertTrue(
                config.auth().toString().contains("hmacSecret=<redacted>"),
                config.auth().toString());
        assertFalse(GatewayConfig.defaults().toString().contains(AuthConfig.DEV_HMAC_SECRET));
    }

    // --- origins --------------------------------------------------------------------------------

    @Test
    void wildcardAllowsAnyOrigin() {
        ServerConfig server = ServerConfig.defaults();
        assertTrue(server.allowsAnyOrigin());
        assertTrue(server.originAllowed("https://evil.example"));
        assertTrue(server.originAllowed("null"));
        assertTrue(server.originAllowed(null));
    }

    @Test
    void explicitOriginsAllowOnlyExactMatches() {
        ServerConfig server = ConfigLoader.parse(
                        "server: {allowed_origins: ['https://app.example.com', 'http://localhost:3000']}", NO_ENV)
                .server();
        assertFalse(server.allowsAnyOrigin());
        assertTrue(server.originAllowed("https://app.example.com"));
        assertTrue(server.originAllowed("HTTPS://App.Example.com"));
        assertTrue(server.originAllowed("http://localhost:3000"));
        assertFalse(server.originAllowed("http://app.example.com"));
        assertFalse(server.originAllowed("https://app.example.com:8443"));
        assertFalse(server.originAllowed("https://app.example.com.evil.example"));
        assertFalse(server.originAllowed("http://localhost:3001"));
        assertFalse(server.originAllowed("null"));
        assertFalse(server.originAllowed("*"));
    }

    @Test
    void missingOriginIsAllowedBecauseOnlyBrowsersSendOne() {
        ServerConfig server = ConfigLoader.parse("server: {allowed_origins: ['https://app.example.com']}", NO_ENV)
                .server();
        assertTrue(server.originAllowed(null));
        assertTrue(server.originAllowed(""));
    }

    @Test
    void nodeIdIsOptional() {
        assertNull(GatewayConfig.defaults().server().nodeId());
        assertNull(
                ConfigLoader.parse("server: {node_id: null}", NO_ENV).server().nodeId());
        assertEquals(
                "gw-1",
                ConfigLoader.parse("server: {node_id: gw-1}", NO_ENV).server().nodeId());
        assertEquals(
                "a".repeat(32),
                ConfigLoader.parse("server: {node_id: " + "a".repeat(32) + "}", NO_ENV)
                        .server()
                        .nodeId());
    }

    @Test
    void recordsCopyTheirLists() {
        List<String> origins = new ArrayList<>(List.of("https://a.example"));
        ServerConfig server = new ServerConfig("::", 1, "/", 1024, origins, Duration.ofSeconds(1), 0, false, null);
        origins.add("https://b.example");
        assertEquals(List.of("https://a.example"), server.allowedOrigins());
    }

    @Test
    void nodeIdComesFromTheEnvironmentToo() {
        assertEquals(
                "pod-7",
                ConfigLoader.parse("", Map.of("TETHER_NODE_ID", "pod-7"))
                        .server()
                        .nodeId());
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("", Map.of("TETHER_NODE_ID", "Pod_7")));
        assertTrue(e.getMessage().startsWith("server.node_id: Pod_7"), e.getMessage());
    }
}
