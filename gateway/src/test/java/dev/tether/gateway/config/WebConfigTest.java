package dev.tether.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code web} section, its safety rule for development tokens, and the production example file. */
class WebConfigTest {

    private static final Path SHIPPED = Path.of("..", "config", "gateway.yaml");
    private static final Path PRODUCTION = Path.of("..", "config", "production.yaml");
    private static final String REAL_SECRET = "a-real-secret-from-the-environment-0123456789";

    @Test
    void defaultsServeTheDemoButNoDevTokens() {
        WebConfig web = GatewayConfig.defaults().web();
        assertTrue(web.demoPage());
        assertFalse(web.devTokens(), "dev tokens are disabled unless explicitly enabled");
        assertEquals(Duration.ofHours(1), web.devTokenMaxTtl());
    }

    @Test
    void keysAreRead() {
        WebConfig web = ConfigLoader.parse(
                        "web: {demo_page: false, dev_tokens: true, dev_token_max_ttl: 10m}", Map.of())
                .web();
        assertEquals(new WebConfig(false, true, Duration.ofMinutes(10)), web);
    }

    @Test
    void devTokenMaxTtlIsBounded() {
        ConfigException tooShort =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("web: {dev_token_max_ttl: 1s}", Map.of()));
        assertEquals("web.dev_token_max_ttl: 1s (expected: 5s..1d)", tooShort.getMessage());
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("web: {dev_token_max_ttl: 2d}", Map.of()));
    }

    @Test
    void devTokensWithARealSecretFromTheEnvironmentRefuseToStart() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.load(SHIPPED, Map.of(ConfigLoader.ENV_JWT_SECRET, REAL_SECRET)));
        assertEquals("web.dev_tokens", e.key());
        assertTrue(
                e.getMessage()
                        .startsWith("web.dev_tokens: true (expected: false unless auth.hmac_secret is the "
                                + "built-in development secret"),
                e.getMessage());
        assertFalse(e.getMessage().contains(REAL_SECRET));
    }

    @Test
    void devTokensWithARealSecretInTheFileRefuseToStart() {
        assertEquals(
                "web.dev_tokens",
                assertThrows(
                                ConfigException.class,
                                () -> ConfigLoader.parse(
                                        "auth: {hmac_secret: " + REAL_SECRET + "}\nweb: {dev_tokens: true}", Map.of()))
                        .key());
    }

    @Test
    void theDemoPageCannotShareTheRootPathWithTheWebSocket() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> ConfigLoader.parse("server: {path: /}", Map.of()));
        assertEquals("web.demo_page", e.key());
        assertEquals(
                "/",
                ConfigLoader.parse("server: {path: /}\nweb: {demo_page: false}", Map.of())
                        .server()
                        .path());
    }

    @Test
    void aRealSecretWithDevTokensOffStarts() {
        GatewayConfig config =
                ConfigLoader.parse("web: {dev_tokens: false}", Map.of(ConfigLoader.ENV_JWT_SECRET, REAL_SECRET));
        assertFalse(config.web().devTokens());
        assertFalse(config.auth().usesDevSecret());
    }

    @Test
    void theDevelopmentFileBindsLoopbackAndSoDoTheDefaults() {
        assertEquals("127.0.0.1", ConfigLoader.load(SHIPPED, Map.of()).server().host());
        assertEquals("127.0.0.1", GatewayConfig.defaults().server().host());
        assertTrue(GatewayConfig.defaults().server().bindsLoopback());
    }

    @Test
    void devTokensOnANetworkAddressAreRefusedUnlessDevTokensRemote() {
        for (String host : List.of("0.0.0.0", "::", "192.168.1.20", "gateway.example.com")) {
            ConfigException e = assertThrows(
                    ConfigException.class,
                    () -> ConfigLoader.parse("server: {host: '" + host + "'}\nweb: {dev_tokens: true}", Map.of()),
                    host);
            assertEquals("web.dev_tokens", e.key());
            assertTrue(
                    e.getMessage()
                            .contains("server.host (" + host + ") is not a loopback address, unless "
                                    + "web.dev_tokens_remote is true"),
                    e.getMessage());
        }
        GatewayConfig remote = ConfigLoader.parse(
                "server: {host: 0.0.0.0}\nweb: {dev_tokens: true, dev_tokens_remote: true}", Map.of());
        assertTrue(remote.web().devTokensRemote());
        for (String host : List.of("127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost")) {
            assertTrue(
                    ConfigLoader.parse("server: {host: '" + host + "'}\nweb: {dev_tokens: true}", Map.of())
                            .web()
                            .devTokens(),
                    host);
        }
    }

    @Test
    void loopbackIsDecidedWithoutLookingNamesUp() {
        assertTrue(ServerConfig.isLoopback("127.0.0.1"));
        assertTrue(ServerConfig.isLoopback("::1"));
        assertTrue(ServerConfig.isLoopback("LOCALHOST"));
        assertFalse(ServerConfig.isLoopback("0.0.0.0"));
        assertFalse(ServerConfig.isLoopback("10.0.0.1"));
        assertFalse(ServerConfig.isLoopback("localhost.example.com"));
    }

    @Test
    void onlyADevelopmentSetupAcceptsThePublicSecret() {
        assertTrue(ConfigLoader.load(SHIPPED, Map.of()).acceptsPublicSecret(), "the development file");
        assertTrue(GatewayConfig.defaults().acceptsPublicSecret(), "the built-in defaults: refused at start-up");
        assertFalse(ConfigLoader.parse("", Map.of(ConfigLoader.ENV_JWT_SECRET, REAL_SECRET))
                .acceptsPublicSecret());
    }

    @Test
    void subprocessWorkersNeedTheEpollTransport() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> ConfigLoader.parse("server: {prefer_epoll: false}\nworker: {kind: process}", Map.of()));
        assertEquals("server.prefer_epoll", e.key());
        assertFalse(ConfigLoader.parse("server: {prefer_epoll: false}\nworker: {kind: echo}", Map.of())
                .server()
                .preferEpoll());
    }

    @Test
    void webKeysNeedARestart() {
        assertTrue(ConfigChanges.isRestartOnly("web.demo_page"));
        assertTrue(ConfigChanges.isRestartOnly("web.dev_tokens"));
    }

    @Test
    void productionExampleLoadsWithASecretFromTheEnvironment() {
        GatewayConfig config = ConfigLoader.load(PRODUCTION, Map.of(ConfigLoader.ENV_JWT_SECRET, REAL_SECRET));
        assertFalse(config.web().demoPage());
        assertFalse(config.web().devTokens());
        assertFalse(config.auth().usesDevSecret());
        assertEquals(List.of("https://app.example.com"), config.server().allowedOrigins());
        assertEquals("json", config.logging().format());
    }

    @Test
    void productionExampleNeverCarriesASecretOfItsOwn() {
        assertTrue(
                ConfigLoader.load(PRODUCTION, Map.of()).auth().usesDevSecret(),
                "without TETHER_JWT_SECRET it falls back to the public default (and warns): no secret is in the file");
    }
}
