package dev.tether.gateway.testing;

import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.server.GatewayServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts a real gateway on {@code 127.0.0.1:0} for a test class and stops it afterwards. Register
 * with {@code @RegisterExtension static final GatewayExtension gateway = GatewayExtension.withConfig("...")};
 * the YAML given is merged over {@link #BASE_CONFIG}.
 */
public final class GatewayExtension implements BeforeAllCallback, AfterAllCallback {

    /**
     * What every test gateway has: loopback, an ephemeral port (for the admin listener too), a fast
     * echo worker, and abuse limits (connection rate and open connections per address, message rate per session) far
     * above what tests send, so that only the tests about those limits (which set their own) ever
     * meet them, however loaded the machine is.
     */
    public static final String BASE_CONFIG = """
            server:
              host: 127.0.0.1
              port: 0
            admin:
              port: 0
            abuse:
              connections_per_second: 1000
              connection_burst: 10000
              max_connections_per_address: 100000
              messages_per_second: 10000
              message_burst: 10000
            worker:
              kind: echo
              echo:
                deltas: 3
                delta_interval: 0ms
            """;

    private final Supplier<String> yaml;
    private final Clock clock;
    private GatewayConfig config;
    private GatewayServer server;
    private InetSocketAddress address;

    private GatewayExtension(Supplier<String> yaml, Clock clock) {
        this.yaml = yaml;
        this.clock = clock;
    }

    /** A gateway with {@link #BASE_CONFIG} plus {@code yaml} (sections given there replace keys of the base). */
    public static GatewayExtension withConfig(String yaml) {
        return withConfig(() -> yaml);
    }

    /**
     * Like {@link #withConfig(String)}, with the YAML computed just before the gateway starts (for
     * configs that name files a test creates, such as public keys).
     */
    public static GatewayExtension withConfig(Supplier<String> yaml) {
        return new GatewayExtension(yaml, Clock.systemUTC());
    }

    /**
     * This gateway, reading "now" from {@code clock} (token expiry and everything else the gateway
     * asks its clock), and minting its {@link #token tokens} with it. Its timers still run on real
     * time: a test moves the clock to make a token expire, not to fire a timer.
     */
    public GatewayExtension withClock(Clock clock) {
        return new GatewayExtension(yaml, clock);
    }

    /**
     * A gateway for clients that do not read: a worker whose every turn writes about 1 MiB (a 500 KB
     * text in 100 deltas, then again in the result), and connections that may hold 256 KiB unsent,
     * at most 1 MiB, or stall 1 s. The replay buffer (512 KiB) stays below the outbound limit, so a
     * full replay never trips the guard.
     */
    public static GatewayExtension forSlowReaders() {
        return withConfig("""
                worker:
                  echo:
                    deltas: 100
                    delta_interval: 0ms
                sessions:
                  replay_max_bytes: 512KiB
                abuse:
                  max_message_bytes: 1MiB
                  outbound_high_water: 256KiB
                  outbound_stall_timeout: 1s
                  max_outbound_bytes: 1MiB
                """);
    }

    /** A gateway with {@link #BASE_CONFIG} only. */
    public static GatewayExtension withDefaults() {
        return withConfig("");
    }

    /**
     * {@link #BASE_CONFIG} plus {@code yaml}, parsed: for tests that start gateways of their own (one
     * per parameter, say) instead of one per class.
     */
    public static GatewayConfig config(String yaml) {
        return ConfigLoader.parse(Yaml.merge(BASE_CONFIG, yaml), Map.of());
    }

    /** The config the gateway runs ({@link #config(String)} of this extension's YAML). */
    public GatewayConfig config() {
        return config;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        config = config(yaml.get());
        server = new GatewayServer(config, clock);
        address = server.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
        }
    }

    public GatewayServer server() {
        return server;
    }

    public InetSocketAddress address() {
        return address;
    }

    /** The bound address of the admin listener (the config must leave {@code admin.enabled} on). */
    public InetSocketAddress adminAddress() {
        return server.adminAddress().orElseThrow(() -> new IllegalStateException("admin.enabled is false"));
    }

    /** {@code ws://127.0.0.1:PORT/ws}: a new session. */
    public URI uri() {
        return URI.create(
                "ws://127.0.0.1:" + address.getPort() + config.server().path());
    }

    /** The URI that resumes {@code sessionId} after {@code lastSeq}. */
    public URI resumeUri(String sessionId, long lastSeq) {
        return URI.create(uri() + "?session=" + sessionId + "&last_seq=" + lastSeq);
    }

    /** A valid token for {@code subject}, signed with the configured secret, valid for an hour. */
    public String token(String subject) {
        return token(subject, Duration.ofHours(1));
    }

    public String token(String subject, Duration ttl) {
        return minter().mint(subject, ttl, Map.of());
    }

    public TokenMinter minter() {
        String algorithm = config.auth().algorithms().stream()
                .filter(a -> a.startsWith("HS"))
                .findFirst()
                .orElseThrow();
        return new TokenMinter(config.auth().hmacSecret().getBytes(StandardCharsets.UTF_8), algorithm, clock);
    }

    /** A test body that runs against a gateway of its own. */
    public interface GatewayTest {
        void run(GatewayExtension gateway) throws Exception;
    }

    /**
     * Starts {@code gateway} for {@code test} alone and closes it afterwards (a drained gateway is
     * already closed), for a test that needs a gateway configured its own way.
     */
    public static void runWith(GatewayExtension gateway, GatewayTest test) throws Exception {
        gateway.beforeAll(null);
        try {
            test.run(gateway);
        } finally {
            gateway.afterAll(null);
        }
    }
}
